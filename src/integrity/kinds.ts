import { declareKinds } from '../findings/kinds.js';

export const integrityKinds = declareKinds('integrity', {
  content_changed: {
    severity: 'critical',
    description:
      "a watched regular file's SHA-256 differs from the baseline (or, when it could not be read, its size does) and no package change explains it; caught also when the mtime was put back, since ctime and size are part of the fast-path key",
    alerts: ['HostGuardFileChanged'],
  },
  metadata_changed: {
    severity: 'warning',
    otherSeverities: { critical: 'when a setuid or setgid bit is newly set' },
    description:
      "a watched path's type, permission bits, owner, group or symlink target differs from the baseline and no package change explains it (a newly set setuid or setgid bit never is); the subject's and label's `attribute` says which (type, mode, setuid, setgid, owner, group, link_target)",
    alerts: ['HostGuardSetuidChanged', 'HostGuardFileMetadataChanged'],
  },
  added: {
    severity: 'critical',
    description:
      'a path in the watched set that the baseline does not have, and that no package installed or upgraded since put there (a file with a setuid or setgid bit never counts as put there by a package)',
    alerts: ['HostGuardFileChanged'],
  },
  removed: {
    severity: 'critical',
    description:
      'a baseline path in the watched set that is gone, and not by the removal, purge or upgrade of the package that listed it (paths below a directory that could not be listed are not reported)',
    alerts: ['HostGuardFileChanged'],
  },
  running_binary_mismatch: {
    severity: 'critical',
    description:
      "a running process's executable image, read through /proc/PID/exe, differs from the baseline (or, for paths the baseline does not hold, from the package database); `deleted` in the subject means the file on disk was replaced or removed since the process started — a trojan swapped back. A process still running the binary an accepted package change replaced (the content the baseline held before, or an image this exporter verified before) is counted as outdated instead",
    alerts: ['HostGuardRunningBinaryMismatch'],
  },
  package_mismatch: {
    severity: 'critical',
    description:
      "a watched file whose MD5 differs from dpkg's /var/lib/dpkg/info/PACKAGE.md5sums (diversions applied; configuration files left out, an edited one is judged against the baseline), as `debsums` would report; needs no baseline",
    alerts: ['HostGuardPackageMismatch'],
  },
  // The privileged-file search (privileged-search.ts): the whole host, not only watched paths.
  privileged_file_added: {
    severity: 'critical',
    description:
      'the hourly search of the local file systems found a file with a setuid or setgid bit or file capabilities that the baseline does not hold (`attribute`: setuid, setgid or capability): a `chmod u+s` or `setcap` backdoor; setuid and setgid under watched paths are reported there, as they happen',
    alerts: ['HostGuardPrivilegedFileAdded'],
  },
  privileged_file_changed: {
    severity: 'critical',
    description:
      'a setuid, setgid or capability file the baseline holds, outside the watched paths, whose content (and not from its package), owner, group or capabilities changed (`attribute`)',
    alerts: ['HostGuardPrivilegedFileAdded'],
  },
});

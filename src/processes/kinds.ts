import { declareKinds, kindNames } from '../findings/kinds.js';

export const collectorName = 'processes';

/** Every kind the processes collector reports, most severe first: a process's verdict is its first kind. */
export const processKinds = declareKinds(collectorName, {
  deleted_executable: {
    severity: 'critical',
    description: 'the executable was deleted or replaced after the process started, and not by a package upgrade (in a container, no upgrade is assumed)',
    alerts: ['HostGuardDeletedExecutable'],
  },
  writable_location: {
    severity: 'critical',
    description:
      'the executable lies in a temporary or world-writable place (/tmp, /var/tmp, /dev/shm, a memfd, a world-writable directory; home directories when the policy says so); in a container, by the path patterns only',
    alerts: ['HostGuardProcessFromWritableLocation'],
  },
  name_mismatch: {
    severity: 'critical',
    description:
      'the process name (comm or argv[0]) imitates a kernel thread, or claims a protected name (sshd, cron, ...) whose executable it does not run; in a container, only the kernel-thread imitation is judged',
    alerts: ['HostGuardProcessMasquerading'],
  },
  hidden_process: {
    severity: 'critical',
    description: 'a process that exists but is hidden from the /proc listing, from its own /proc entry, or from ps; confirmed on a second look',
    alerts: ['HostGuardHiddenProcess'],
  },
  container_drift: {
    severity: 'critical',
    description:
      "a process in a container runs an executable that is not from the container's image: it lies in the writable (upper) layer of the container's overlayfs root, written after the container started, also when deleted since (a file of the image copied up by a chmod shows the same)",
    alerts: ['HostGuardContainerDrift'],
  },
  unknown_executable: {
    severity: 'warning',
    description: 'a running executable that no allow rule matches, the baseline does not list, and no installed package owns',
    alerts: ['HostGuardUnknownProcess', 'HostGuardUnknownExecutableFirstSeen'],
  },
  unexpected_user: {
    severity: 'warning',
    description:
      'an allowed executable running as a user its allow rule does not list, or a daemon (parent PID 1) running as root or a system account the baseline never saw it run as',
    alerts: ['HostGuardProcessUnexpectedUser'],
  },
  container_package_manager: {
    severity: 'warning',
    description: 'a package manager (apt, dpkg, apk, yum, pip, npm, ...: containers.package_managers) runs in a running container, changing it away from its image',
    alerts: ['HostGuardContainerPackageManager'],
  },
  container_shell: {
    severity: 'warning',
    description: 'an interactive shell (containers.shells) with a terminal on its standard input runs in a container: someone typing in it (kubectl exec -it, docker exec -it)',
    alerts: ['HostGuardContainerShell'],
  },
  stalled_process: {
    severity: 'warning',
    description:
      'a process whose command line (/proc/PID/cmdline, which takes its memory-map lock) or root directory could not be read within the deadline: a thread of it waits on a stalled file system (FUSE, NFS), which also hangs ps; the exporter skips it until the read returns',
    alerts: ['HostGuardProcessStalled'],
  },
  resource_hog: {
    severity: 'warning',
    description: 'a process with another finding that uses more CPU or resident memory than resource_hog allows',
    alerts: ['HostGuardProcessResourceHog'],
  },
});

export const processFindingKinds = kindNames(processKinds);
export type ProcessFindingKind = (typeof processFindingKinds)[number];

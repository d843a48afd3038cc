import { declareKinds, kindNames } from '../findings/kinds.js';

export const collectorName = 'processes';

/** Every kind the processes collector reports, most severe first: a process's verdict is its first kind. */
export const processKinds = declareKinds(collectorName, {
  deleted_executable: {
    severity: 'critical',
    description:
      'the executable was deleted or replaced after the process started, and not by a package upgrade (in a container, no upgrade is assumed)',
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
    description:
      'a process that exists but is hidden from the /proc listing, from its own /proc entry, or from ps; confirmed on a second look',
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
    description:
      'a package manager (apt, dpkg, apk, yum, pip, npm, ...: containers.package_managers) runs in a running container, changing it away from its image',
    alerts: ['HostGuardContainerPackageManager'],
  },
  container_shell: {
    severity: 'warning',
    description:
      'an interactive shell (containers.shells) with a terminal on its standard input runs in a container: someone typing in it (kubectl exec -it, docker exec -it)',
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
  // Kinds that are no verdict of one running process: held execs, mappings, the exec source.
  injected_library: {
    severity: 'critical',
    description:
      "a process maps executable code from a file in a writable location, a memfd or a deleted file (/proc/PID/maps), or has LD_PRELOAD naming one: a library preloaded or injected into it; read for new processes and on the hidden-process sweep's schedule",
    alerts: ['HostGuardInjectedLibrary'],
  },
  flagged_exec: {
    severity: 'critical',
    otherSeverities: { warning: 'when the exec was unknown_executable or unexpected_user only' },
    description:
      'an exec read from the kernel audit log (processes.exec_events) that had a finding (writable_location, deleted_executable, name_mismatch, unknown_executable, unexpected_user: of its executable, its script or its loaded program) and whose process is gone; held for exec_events.hold',
    alerts: ['HostGuardFlaggedExec', 'HostGuardUnknownExec'],
  },
  exec_auditing_off: {
    severity: 'critical',
    description:
      "the exec source went blind: auditing switched off (auditctl -e 0), the exec rules removed (auditctl -D, -d), or auditd stopped, from the log's CONFIG_CHANGE and DAEMON_END records or from auditctl -s and -l where the exporter may ask",
    alerts: ['HostGuardExecAuditingOff'],
  },
  exec_source_unavailable: {
    severity: 'warning',
    description: 'the audit log named by processes.exec_events cannot be read (missing, unreadable, not a file)',
    alerts: ['HostGuardExecSourceUnhealthy'],
  },
});

export const processFindingKinds = kindNames(processKinds);
export type ProcessFindingKind = (typeof processFindingKinds)[number];

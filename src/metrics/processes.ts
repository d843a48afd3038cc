import { metricSpec } from './spec.js';

const exeLabel = 'executable path (/proc/PID/exe), at most 256 characters; one series per executable, capped by --metrics.max-finding-series';
const userClassLabel = 'root, system, regular or invalid: the class of the effective user (the user name is in the finding, never a label)';

/** Metrics of the processes collector (src/collectors/processes.ts). */
export const processesMetricSpecs = {
  examined: metricSpec({
    name: 'hostguard_processes_examined',
    type: 'gauge',
    help: 'Processes read in the last collection.',
    labels: { type: '"userland" or "kernel_thread"' },
  }),
  unjudged: metricSpec({
    name: 'hostguard_processes_unjudged',
    type: 'gauge',
    help: 'Userland processes of the last collection that were not judged at all: their executable or /proc files could not be read.',
    labels: { reason: '"permission_denied" (the exporter lacks cap_sys_ptrace, or a security module such as AppArmor denies it) or "malformed"' },
    notes:
      'Above 0 for permission_denied, unknown_executable, unexpected_user, deleted_executable, writable_location and name_mismatch are blind for those processes; the log says so once. Processes in containers are counted in hostguard_processes_identity_unjudged instead (earlier versions counted them here as reason="other_mount_namespace").',
  }),
  identityUnjudged: metricSpec({
    name: 'hostguard_processes_identity_unjudged',
    type: 'gauge',
    help: 'Userland processes of the last collection judged only for writable_location, name_mismatch and the container kinds (container_drift, container_package_manager, container_shell): their identity against the host (unknown_executable, unexpected_user), deleted_executable and resource_hog were not judged.',
    labels: {
      reason: '"other_root": a process in a container, whose root directory is not the host\'s (--path.rootfs), so that its executable path names a file of its own root, about which the host\'s allow rules, baseline, packages and files say nothing; counted too when that root cannot be stat\'ed. A process that merely has a mount namespace of its own (systemd\'s PrivateTmp or ProtectSystem, unshare -m) keeps the host\'s root and is judged as the host\'s',
    },
    notes:
      'Expected on a host that runs containers: the number of container processes examined. A binary in a container\'s /tmp or a memfd, or a fake kernel thread, is still a finding, and so is one that is not from the container\'s image (container_drift; hostguard_container_processes says where each executable lives). Earlier versions counted the processes of every other mount namespace here, as reason="other_mount_namespace".',
  }),
  outdated: metricSpec({
    name: 'hostguard_processes_outdated',
    type: 'gauge',
    help: 'Processes still running an executable that a package upgrade replaced after they started: they need a restart. Not a finding.',
    labels: {},
  }),
  readRaces: metricSpec({
    name: 'hostguard_process_read_races_total',
    type: 'counter',
    help: 'Processes that exited while they were being read: normal on a live host, not an error.',
    labels: {},
  }),
  readErrors: metricSpec({
    name: 'hostguard_process_read_errors_total',
    type: 'counter',
    help: 'Process reads that failed for another reason than the process exiting.',
    labels: { reason: '"permission_denied" or "malformed" (a /proc file without the documented shape)' },
  }),
  flagged: metricSpec({
    name: 'hostguard_process_flagged',
    type: 'gauge',
    help: 'Running processes behind each current finding, by executable, user class and finding kind.',
    labels: { exe: exeLabel, user_class: userClassLabel, kind: 'the finding kinds of this collector except hidden_process' },
  }),
  flaggedCpu: metricSpec({
    name: 'hostguard_process_flagged_cpu_seconds',
    type: 'gauge',
    help: 'CPU time used so far by the running processes that have a finding, by executable and user class.',
    labels: { exe: exeLabel, user_class: userClassLabel },
    notes: 'A gauge: it drops when such a process exits. `deriv()` over a few minutes approximates the cores in use.',
  }),
  flaggedResident: metricSpec({
    name: 'hostguard_process_flagged_resident_bytes',
    type: 'gauge',
    help: 'Resident memory of the running processes that have a finding, by executable and user class.',
    labels: { exe: exeLabel, user_class: userClassLabel },
  }),
  starts: metricSpec({
    name: 'hostguard_process_starts_total',
    type: 'counter',
    help: 'Processes seen starting by the watch of new PIDs, by the verdict on their first look.',
    labels: {
      verdict:
        'known, unknown_executable, unexpected_user, deleted_executable, writable_location, name_mismatch, container_drift, container_package_manager, container_shell, stalled_process (the most severe finding kind), kernel_thread, other_root (a process in a container, whose root is not the host\'s, without a finding of the kinds judged there; its identity is not judged), or unexamined (gone or unreadable before it could be judged)',
    },
    notes: 'Counts what lives at least one watch interval; a process that starts and exits in between is not seen (see the processes section of the README).',
  }),
  startWatchInterval: metricSpec({
    name: 'hostguard_process_start_watch_interval_seconds',
    type: 'gauge',
    help: 'Interval of the watch of new PIDs; 0 when no watch runs (the `check` command, or start_watch.enabled: false).',
    labels: {},
  }),
  hidden: metricSpec({
    name: 'hostguard_processes_hidden',
    type: 'gauge',
    help: 'Hidden processes found by the last sweep and still alive, by the view they are hidden from.',
    labels: { view: '"listing" (the /proc directory), "procfs_entry" (/proc/PID masked) or "ps"; the ps series is absent when ps was not compared' },
  }),
  hiddenSweepTimestamp: metricSpec({
    name: 'hostguard_process_hidden_sweep_last_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last hidden-process sweep finished; 0 before the first.',
    labels: {},
  }),
  hiddenSweepDuration: metricSpec({
    name: 'hostguard_process_hidden_sweep_duration_seconds',
    type: 'gauge',
    help: 'Duration of the last hidden-process sweep.',
    labels: {},
  }),
  hiddenSweepSuccess: metricSpec({
    name: 'hostguard_process_hidden_sweep_success',
    type: 'gauge',
    help: 'Whether the last hidden-process sweep completed (1) or failed (0); details are in the log.',
    labels: {},
  }),
  packagePaths: metricSpec({
    name: 'hostguard_process_package_paths',
    type: 'gauge',
    help: 'Paths owned by installed packages (dpkg file lists) in the index that makes their executables known; 0 without dpkg or with packaged_executables: false.',
    labels: {},
  }),
} as const;

import { metricSpec } from './spec.js';

const exeLabel =
  'executable path (/proc/PID/exe), at most 256 characters; one series per executable, capped by --metrics.max-finding-series';
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
    labels: {
      reason: '"permission_denied" (the exporter lacks cap_sys_ptrace, or a security module such as AppArmor denies it) or "malformed"',
    },
    notes:
      'Above 0 for permission_denied, unknown_executable, unexpected_user, deleted_executable, writable_location and name_mismatch are blind for those processes; the log says so once. Processes in containers are counted in hostguard_processes_identity_unjudged instead (earlier versions counted them here as reason="other_mount_namespace").',
  }),
  identityUnjudged: metricSpec({
    name: 'hostguard_processes_identity_unjudged',
    type: 'gauge',
    help: 'Userland processes of the last collection judged only for writable_location, name_mismatch and the container kinds (container_drift, container_package_manager, container_shell): their identity against the host (unknown_executable, unexpected_user), deleted_executable and resource_hog were not judged.',
    labels: {
      reason:
        "\"other_root\": a process in a container, whose root directory is not the host's (--path.rootfs), so that its executable path names a file of its own root, about which the host's allow rules, baseline, packages and files say nothing; counted too when that root cannot be stat'ed. A process that merely has a mount namespace of its own (systemd's PrivateTmp or ProtectSystem, unshare -m) keeps the host's root and is judged as the host's",
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
    labels: {
      exe: `${exeLabel}; for a script or a program run by the loader, that file's path (the finding names the interpreter or loader)`,
      user_class: userClassLabel,
      kind: 'the finding kinds judged per running process: unknown_executable, unexpected_user, deleted_executable, writable_location, name_mismatch, resource_hog, injected_library',
    },
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
        "known, unknown_executable, unexpected_user, deleted_executable, writable_location, name_mismatch, container_drift, container_package_manager, container_shell, stalled_process (the most severe finding kind), kernel_thread, other_root (a process in a container, whose root is not the host's, without a finding of the kinds judged there; its identity is not judged), or unexamined (gone or unreadable before it could be judged)",
    },
    notes:
      'Counts what lives at least one watch interval; a process that starts and exits in between is not seen (see the processes section of the README).',
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
    labels: {
      view: '"listing" (the /proc directory), "procfs_entry" (/proc/PID masked) or "ps"; the ps series is absent when ps was not compared',
    },
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
  execEvents: metricSpec({
    name: 'hostguard_process_exec_events_total',
    type: 'counter',
    help: 'Execs read from the kernel audit log (processes.exec_events), by the verdict on the exec: the most severe kind of its executable, script or loaded program.',
    labels: {
      verdict:
        "as hostguard_process_starts_total: known, unknown_executable, unexpected_user, deleted_executable, writable_location, name_mismatch, other_root (a container's, or one whose root could not be told once it was gone), kernel_thread and unexamined never occur",
    },
    notes:
      'Every successful execve and execveat the rules in deploy/audit/hostguard.rules record, also of processes that live a millisecond. Present only with processes.exec_events. A restart resumes at the saved position: an exec is counted once.',
  }),
  inlineCode: metricSpec({
    name: 'hostguard_process_inline_code_total',
    type: 'counter',
    help: 'Interpreters started with code in an argument (sh -c, python3 -c, perl -e, an awk program) or on stdin (curl … | sh), by interpreter. Not a finding.',
    labels: {
      interpreter: 'basename of the interpreter (processes.interpreters): a bounded set, the interpreters installed',
      via: '"argument" or "stdin" (stdin attached to a terminal is a session and is not counted)',
    },
    notes:
      'Counted from the exec events when processes.exec_events is set (every exec), otherwise by the watch of new PIDs (what lives one interval): one exec is counted once.',
  }),
  flaggedExecs: metricSpec({
    name: 'hostguard_process_flagged_execs',
    type: 'gauge',
    help: 'Flagged execs read from the audit log whose process is gone, within exec_events.hold, by what ran, user class and kind: the series of the flagged_exec findings.',
    labels: {
      exe: 'what ran: the executable, or the script or loaded program that was flagged; capped by --metrics.max-finding-series',
      user_class: userClassLabel,
      kind: 'deleted_executable, writable_location, name_mismatch, unknown_executable or unexpected_user',
    },
    notes:
      'The value counts the execs in the window. An exec whose process still runs is reported by hostguard_process_flagged instead (one exec, one finding).',
  }),
  execSourceHealthy: metricSpec({
    name: 'hostguard_process_exec_source_healthy',
    type: 'gauge',
    help: 'Whether execs are being seen: 1 when the audit log can be read and auditing is not known to be off, 0 otherwise. Absent without processes.exec_events.',
    labels: { path: 'the audit log of processes.exec_events (one series)' },
  }),
  execAuditingOff: metricSpec({
    name: 'hostguard_process_exec_auditing_off',
    type: 'gauge',
    help: 'Stretches during which execs were not recorded, going on or over for less than exec_events.hold, by reason: the series of the exec_auditing_off findings. Absent without processes.exec_events.',
    labels: {
      reason: '"disabled" (auditctl -e 0), "rules_removed" (the exec rules deleted: auditctl -D, -d) or "daemon_stopped" (auditd stopped)',
    },
  }),
  execRecords: metricSpec({
    name: 'hostguard_process_exec_source_records_total',
    type: 'counter',
    help: 'Records read from the audit log (every type and key), and stitched into events.',
    labels: {},
  }),
  execParseErrors: metricSpec({
    name: 'hostguard_process_exec_source_parse_errors_total',
    type: 'counter',
    help: 'Lines of the audit log that are no audit record, by reason; they are skipped.',
    labels: { reason: '"no_type" (no type= field) or "no_event_id" (no msg=audit(time:serial))' },
  }),
  execIncompleteEvents: metricSpec({
    name: 'hostguard_process_exec_source_incomplete_events_total',
    type: 'counter',
    help: 'Audit events handed on without their last record (PROCTITLE): after 2 s without a record of theirs, or evicted when 1,024 were open.',
    labels: {},
  }),
  execGaps: metricSpec({
    name: 'hostguard_process_exec_source_gaps_total',
    type: 'counter',
    help: 'Times the saved position in the audit log could not be found again (the rotated file was gone): execs may be missing.',
    labels: {},
  }),
  execLag: metricSpec({
    name: 'hostguard_process_exec_source_lag_bytes',
    type: 'gauge',
    help: 'Bytes of the audit log written but not yet read. Absent without processes.exec_events.',
    labels: { path: 'the audit log of processes.exec_events (one series)' },
  }),
  kernelStatus: metricSpec({
    name: 'hostguard_process_exec_kernel_status_success',
    type: 'gauge',
    help: 'Whether the kernel answered auditctl -s and -l (it does only with CAP_AUDIT_CONTROL): 1 yes, 0 no, and then only the log tells that auditing was switched off. Absent without processes.exec_events.',
    labels: { path: 'the audit log of processes.exec_events (one series)' },
  }),
  kernelLost: metricSpec({
    name: 'hostguard_process_exec_kernel_lost_total',
    type: 'counter',
    help: 'Audit records the kernel dropped since boot (its backlog was full, or the rate limit hit), as auditctl -s reports: each may be a lost exec.',
    labels: {},
    notes:
      'Present only when the kernel answers auditctl -s (hostguard_process_exec_kernel_status_success 1). Raise the backlog with -b in the rules file.',
  }),
  codeInspections: metricSpec({
    name: 'hostguard_process_code_inspections_total',
    type: 'counter',
    help: 'Processes whose /proc/PID/maps and environ were read for injected libraries (new processes, and all on hidden_sweep.schedule), by result.',
    labels: { result: '"inspected", or "failed" (exited or unreadable meanwhile)' },
  }),
  packagePaths: metricSpec({
    name: 'hostguard_process_package_paths',
    type: 'gauge',
    help: 'Paths owned by installed packages (dpkg file lists) in the index that makes their executables known; 0 without dpkg or with packaged_executables: false.',
    labels: {},
  }),
} as const;

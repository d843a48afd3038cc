import type { RuleFile } from './rule-types.js';

export const processesRules: RuleFile = {
  file: 'hostguard-processes.yml',
  header: [
    'Process detections (collector "processes"). The per-executable series carry the executable path',
    'and the user class; the findings (check, /api/findings, the landing page) carry user names and pids.',
    'Every alert carries collector="processes" for Alertmanager\'s inhibition while that collector fails.',
  ],
  groups: [
    {
      name: 'hostguard-processes',
      collector: 'processes',
      rules: [
        {
          alert: 'HostGuardUnknownProcess',
          expr: 'hostguard_process_flagged{kind="unknown_executable"} > 0',
          for: '1m',
          summary: 'Unknown executable {{ $labels.exe }} running on {{ $labels.instance }}',
          description: [
            '{{ $value }} process(es) of {{ $labels.exe }} ({{ $labels.user_class }} user) run on {{ $labels.instance }}, and no',
            'allow rule, baseline entry or installed package accounts for that executable.',
          ],
        },
        {
          alert: 'HostGuardProcessFromWritableLocation',
          expr: 'hostguard_process_flagged{kind="writable_location"} > 0',
          summary: 'Process running from a writable location on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) runs on {{ $labels.instance }} from a temporary or world-writable',
            'place: the classic sign of a dropped payload.',
          ],
        },
        {
          alert: 'HostGuardDeletedExecutable',
          expr: 'hostguard_process_flagged{kind="deleted_executable"} > 0',
          summary: 'Process whose executable was deleted on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) keeps running on {{ $labels.instance }} though its executable was',
            'deleted or replaced after it started, and not by a package upgrade: droppers delete themselves to hide.',
          ],
        },
        {
          alert: 'HostGuardProcessUnexpectedUser',
          expr: 'hostguard_process_flagged{kind="unexpected_user"} > 0',
          for: '1m',
          summary: '{{ $labels.exe }} runs as an unexpected user on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} runs on {{ $labels.instance }} as a {{ $labels.user_class }} user that its allow rule or the',
            'baseline does not list: a legitimate program started by the wrong account, or an imitation of one.',
          ],
        },
        {
          alert: 'HostGuardProcessMasquerading',
          expr: 'hostguard_process_flagged{kind="name_mismatch"} > 0',
          summary: 'Process masquerading under another name on {{ $labels.instance }}',
          description: [
            'A process of {{ $labels.exe }} ({{ $labels.user_class }} user) on {{ $labels.instance }} calls itself like a kernel',
            'thread or a protected daemon whose executable it does not run: malware hiding in plain sight in ps and top.',
          ],
        },
        {
          alert: 'HostGuardProcessResourceHog',
          comment: ['Thresholds here, on the raw cost of processes that already have a finding.'],
          expr: ['deriv(hostguard_process_flagged_cpu_seconds[5m]) > 0.8', 'or hostguard_process_flagged_resident_bytes > 1073741824'],
          for: '10m',
          summary: 'A flagged process uses heavy CPU or memory on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) on {{ $labels.instance }} has a finding and has used more than',
            '0.8 cores or 1 GiB of memory for 10 minutes: the top/htop sign of a cryptominer.',
          ],
        },
        {
          alert: 'HostGuardUnknownProcessStarts',
          // Container kinds have their own alerts (rules/hostguard-containers.yml).
          comment: ['Where the audit log shows every exec (processes.exec_events), its alerts name each one: this one stays quiet there.'],
          expr: [
            'sum without (verdict) (increase(hostguard_process_starts_total{verdict!~"known|kernel_thread|other_root|unexamined|container_.*"}[10m])) > 0',
            'unless on (instance, job) hostguard_process_exec_source_healthy == 1',
          ],
          severity: 'warning',
          summary: 'Unknown or suspicious processes started on {{ $labels.instance }}',
          description: [
            '{{ $value | printf "%.0f" }} process(es) with a finding started on {{ $labels.instance }} in the last 10 minutes, seen',
            'by the watch of new PIDs even if they exited before a scrape: a script or payload that runs briefly.',
          ],
        },
        {
          alert: 'HostGuardProcessStalled',
          comment: ['A few seconds happen (a slow NFS server); minutes mean ps and top hang on it.'],
          expr: 'hostguard_process_flagged{kind="stalled_process"} > 0',
          for: '2m',
          summary: 'A process of {{ $labels.exe }} is stalled on a file system on {{ $labels.instance }}',
          description: [
            '{{ $value }} process(es) of {{ $labels.exe }} ({{ $labels.user_class }} user) on {{ $labels.instance }} have waited in the',
            'kernel on a file system that does not answer for 2 minutes: their command line cannot be read, ps and top hang on them,',
            "and a FUSE file system that stalls on purpose is a way to blind the host's tools.",
          ],
        },
        {
          alert: 'HostGuardFlaggedExec',
          expr: 'hostguard_process_flagged_execs{kind=~"deleted_executable|writable_location|name_mismatch"} > 0',
          summary: 'Flagged exec of {{ $labels.exe }} on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) ran {{ $value }} time(s) on {{ $labels.instance }} and is gone, seen in the',
            'kernel audit log as {{ $labels.kind }}: a payload that runs for a moment. The finding names its parent and interpreter.',
          ],
        },
        {
          alert: 'HostGuardUnknownExec',
          expr: 'hostguard_process_flagged_execs{kind=~"unknown_executable|unexpected_user"} > 0',
          severity: 'warning',
          summary: 'Unknown exec of {{ $labels.exe }} on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) ran {{ $value }} time(s) on {{ $labels.instance }} and is gone, seen in the',
            'kernel audit log as {{ $labels.kind }}: no allow rule, baseline entry or package accounts for it.',
          ],
        },
        {
          alert: 'HostGuardInjectedLibrary',
          expr: 'hostguard_process_flagged{kind="injected_library"} > 0',
          summary: 'Library injected into {{ $labels.exe }} on {{ $labels.instance }}',
          description: [
            '{{ $value }} process(es) of {{ $labels.exe }} ({{ $labels.user_class }} user) on {{ $labels.instance }} run code mapped from a',
            'writable place, a memfd or a deleted file, or preloaded with LD_PRELOAD: a userland rootkit or an injected implant.',
          ],
        },
        {
          alert: 'HostGuardExecAuditingOff',
          expr: 'hostguard_process_exec_auditing_off > 0',
          summary: 'Exec auditing was switched off on {{ $labels.instance }}',
          description: [
            'On {{ $labels.instance }} execs were not recorded ({{ $labels.reason }}): auditing switched off, the exec rules removed or',
            "auditd stopped, now or within the last exec_events.hold. An intruder's first step against this source.",
          ],
        },
        {
          alert: 'HostGuardExecSourceUnhealthy',
          expr: [
            'hostguard_process_exec_source_healthy == 0',
            'unless on (instance, job) sum by (instance, job) (hostguard_process_exec_auditing_off) > 0',
          ],
          for: '5m',
          summary: 'The audit log of execs cannot be read on {{ $labels.instance }}',
          description: [
            'hostguard-exporter on {{ $labels.instance }} has not been able to read the audit log named by processes.exec_events',
            'for 5 minutes: execs that live less than a watch interval go unseen. The finding names the path and the error.',
          ],
        },
        {
          alert: 'HostGuardExecEventsLost',
          expr: 'increase(hostguard_process_exec_kernel_lost_total[10m]) > 0',
          severity: 'warning',
          summary: 'The kernel dropped audit records on {{ $labels.instance }}',
          description: [
            'The kernel of {{ $labels.instance }} dropped {{ $value | printf "%.0f" }} audit record(s) in 10 minutes (backlog full or rate',
            'limit): execs may be missing. Raise the backlog (auditctl -b) or find what floods the audit log.',
          ],
        },
        {
          alert: 'HostGuardHiddenProcess',
          expr: 'hostguard_processes_hidden > 0',
          summary: 'Hidden process on {{ $labels.instance }}',
          description: [
            '{{ $value }} process(es) on {{ $labels.instance }} exist but are hidden from the {{ $labels.view }} view, confirmed on',
            'a second look: the mark of a rootkit.',
          ],
        },
        {
          alert: 'HostGuardHiddenProcessSweepFailing',
          expr: 'hostguard_process_hidden_sweep_success == 0',
          for: '30m',
          severity: 'warning',
          summary: 'The hidden-process sweep fails on {{ $labels.instance }}',
          description: [
            'The hidden-process sweep of hostguard-exporter on {{ $labels.instance }} has not completed for 30 minutes, so hidden',
            'processes would go unseen. The exporter log names the error.',
          ],
        },
      ],
    },
  ],
};

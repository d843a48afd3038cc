import type { RuleFile } from './rule-types.js';

export const authRules: RuleFile = {
  file: 'hostguard-auth.yml',
  header: [
    "Authentication detections from the auth collector's counters. Thresholds live here, so tune them",
    'here: the exporter only counts attempts. Every alert carries collector="auth".',
  ],
  groups: [
    {
      name: 'hostguard-auth',
      collector: 'auth',
      rules: [
        {
          alert: 'HostGuardAuthBruteForce',
          expr: 'sum without (reason, user_class) (rate(hostguard_auth_failures_total[2m])) * 60 > 10',
          for: '1m',
          severity: 'warning',
          summary: 'Brute force against {{ $labels.service }} on {{ $labels.instance }}',
          description: [
            '{{ $labels.service }} on {{ $labels.instance }} is failing {{ $value | printf "%.0f" }} authentication attempts a',
            'minute (more than 10 a minute over 2 minutes): password guessing is under way.',
          ],
        },
        {
          alert: 'HostGuardAuthDistributedGuessing',
          expr: 'hostguard_auth_failing_sources{window="15m"} > 50',
          for: '5m',
          severity: 'warning',
          summary: 'Failed logins from many sources on {{ $labels.instance }}',
          description: [
            'About {{ $value | printf "%.0f" }} distinct addresses failed to authenticate on {{ $labels.instance }} in the last',
            "15 minutes: distributed guessing, each source staying under per-address limits such as fail2ban's.",
          ],
        },
        {
          alert: 'HostGuardRootLoginOverSSH',
          expr: [
            'sum without (method) (increase(hostguard_auth_successes_total{service="sshd", user_class="root"}[5m])) > 0',
            'unless on (job, instance) hostguard_auth_ssh_root_login_allowed == 1',
          ],
          severity: 'critical',
          summary: 'Successful root login over SSH on {{ $labels.instance }}',
          description: [
            'root logged in over SSH on {{ $labels.instance }} in the last 5 minutes, and the policy (auth.ssh_root_login)',
            "says it must not: sshd's PermitRootLogin was changed or bypassed, or a key was planted for root.",
          ],
        },
        {
          alert: 'HostGuardSudoFailures',
          expr: 'sum without (user_class) (increase(hostguard_auth_failures_total{service="sudo"}[10m])) >= 3',
          severity: 'warning',
          summary: 'sudo refusals ({{ $labels.reason }}) on {{ $labels.instance }}',
          description: [
            'sudo on {{ $labels.instance }} refused {{ $value | printf "%.0f" }} attempts ({{ $labels.reason }}) in 10 minutes:',
            'someone without the right, or without the password, is trying to become root.',
          ],
        },
        {
          commentAbove: [
            'A journalctl that keeps dying after reading a little flaps between healthy and not, which',
            'would keep resetting `for`: more than 3 restarts in 15 minutes counts as unhealthy too.',
          ],
          alert: 'HostGuardAuthSourceUnhealthy',
          expr: [
            'hostguard_auth_source_healthy == 0',
            'or hostguard_auth_source_healthy',
            '  and on (job, instance, source) increase(hostguard_auth_source_restarts_total[15m]) > 3',
          ],
          for: '5m',
          summary: 'Auth source {{ $labels.source }} cannot be read on {{ $labels.instance }}',
          description: [
            'hostguard-exporter on {{ $labels.instance }} cannot read {{ $labels.source }} ({{ $labels.type }}), or its journalctl',
            'keeps exiting (more than 3 restarts in 15 minutes), for 5 minutes: failed logins there go uncounted or late.',
            'A deleted or truncated auth log is also how intruders cover tracks.',
          ],
        },
        {
          alert: 'HostGuardAuthSourceLagging',
          expr: 'hostguard_auth_source_lag_bytes > 10485760',
          for: '10m',
          severity: 'warning',
          summary: 'Auth source {{ $labels.source }} is falling behind on {{ $labels.instance }}',
          description: [
            'More than 10 MiB of {{ $labels.source }} on {{ $labels.instance }} has been waiting to be read for 10 minutes:',
            'the counters are late, and a flood of log lines may be hiding the attempts that matter.',
          ],
        },
        {
          commentAbove: [
            'A login that came after repeated failures from its address or for its user (policy',
            'auth.success_after_failures): pages for an hour after it, whoever logged in.',
          ],
          alert: 'HostGuardAuthSuccessAfterFailures',
          expr: 'increase(hostguard_auth_success_after_failures_total[1h]) > 0',
          summary: 'A {{ $labels.service }} login after repeated failures on {{ $labels.instance }}',
          description: [
            '{{ $labels.service }} on {{ $labels.instance }} let in a user whose address, or whose name, had just failed to',
            'authenticate again and again ({{ $value | printf "%.0f" }} such login(s) in the last hour): a guessed or stolen',
            'password worked. The finding success_after_failures says who, from where and when.',
          ],
        },
        {
          commentAbove: [
            'An auth log truncated, deleted or replaced outside a rotation, or journal files removed that',
            'journald would not remove: someone covering their tracks. Pages for an hour after it.',
          ],
          alert: 'HostGuardAuthLogTampered',
          expr: 'increase(hostguard_auth_log_tampering_total[1h]) > 0',
          summary: 'Auth log {{ $labels.source }} tampered with ({{ $labels.kind }}) on {{ $labels.instance }}',
          description: [
            '{{ $labels.source }} on {{ $labels.instance }} was {{ $labels.kind }} outside a log rotation in the last hour:',
            'authentication records were destroyed, the way an intruder covers their tracks. The finding log_tampered',
            'names the file and what happened to it.',
          ],
        },
      ],
    },
  ],
};

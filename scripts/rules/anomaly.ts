import type { RuleFile } from './rule-types.js';

export const anomalyRules: RuleFile = {
  file: 'hostguard-anomaly.yml',
  header: [
    'Statistical anomaly rules: each host compared with its own normal (the z-score approach GitLab',
    'described for Prometheus). Recording rules keep a rolling mean and standard deviation over a day',
    'of the 5-minute rates; an alert fires when the current rate is far outside that band. "First',
    'seen" rules flag what did not exist a day ago. Names follow level:metric:operations.',
  ],
  groups: [
    {
      comment: [
        'One group: rules in a group are evaluated in order, so each alert reads the z-score recorded in',
        'the same evaluation, never the previous one.',
      ],
      name: 'hostguard-anomaly',
      interval: '1m',
      rules: [
        {
          record: 'instance:hostguard_auth_failures:rate5m',
          expr: 'sum without (service, reason, user_class) (rate(hostguard_auth_failures_total[5m]))',
        },
        {
          record: 'instance:hostguard_auth_failures:rate5m_avg_over_time_1d',
          expr: 'avg_over_time(instance:hostguard_auth_failures:rate5m[1d])',
        },
        {
          record: 'instance:hostguard_auth_failures:rate5m_stddev_over_time_1d',
          expr: 'stddev_over_time(instance:hostguard_auth_failures:rate5m[1d])',
        },
        {
          record: 'instance:hostguard_auth_failures:rate5m_zscore_1d',
          expr: [
            '(instance:hostguard_auth_failures:rate5m - instance:hostguard_auth_failures:rate5m_avg_over_time_1d)',
            '/ instance:hostguard_auth_failures:rate5m_stddev_over_time_1d',
          ],
        },
        {
          record: 'instance:hostguard_process_starts:rate5m_flagged',
          expr: 'sum without (verdict) (rate(hostguard_process_starts_total{verdict!~"known|kernel_thread|other_root|unexamined"}[5m]))',
        },
        {
          record: 'instance:hostguard_process_starts:rate5m_flagged_avg_over_time_1d',
          expr: 'avg_over_time(instance:hostguard_process_starts:rate5m_flagged[1d])',
        },
        {
          record: 'instance:hostguard_process_starts:rate5m_flagged_stddev_over_time_1d',
          expr: 'stddev_over_time(instance:hostguard_process_starts:rate5m_flagged[1d])',
        },
        {
          record: 'instance:hostguard_process_starts:rate5m_flagged_zscore_1d',
          expr: [
            '(instance:hostguard_process_starts:rate5m_flagged - instance:hostguard_process_starts:rate5m_flagged_avg_over_time_1d)',
            '/ instance:hostguard_process_starts:rate5m_flagged_stddev_over_time_1d',
          ],
        },
        {
          alert: 'HostGuardAuthFailuresAnomalous',
          comment: ['The floor (1 failure a minute) keeps a host that normally sees none from alerting on one typo.'],
          expr: 'instance:hostguard_auth_failures:rate5m_zscore_1d > 3 and instance:hostguard_auth_failures:rate5m > 1/60',
          for: '10m',
          severity: 'warning',
          collector: 'auth',
          summary: 'Authentication failures on {{ $labels.instance }} are far above its normal',
          description: [
            'Authentication failures on {{ $labels.instance }} run {{ $value | printf "%.1f" }} standard deviations above',
            "this host's own average of the last day, for 10 minutes: an attack, or a change (a new client with a stale",
            'password) that the fixed thresholds do not catch.',
          ],
        },
        {
          alert: 'HostGuardFlaggedStartsAnomalous',
          comment: [
            'On a host that tolerates some flagged starts (a build machine running binaries from /tmp),',
            'the fixed HostGuardUnknownProcessStarts is silenced; this one still sees a surge.',
          ],
          expr: 'instance:hostguard_process_starts:rate5m_flagged_zscore_1d > 3 and instance:hostguard_process_starts:rate5m_flagged > 1/60',
          for: '10m',
          severity: 'warning',
          collector: 'processes',
          summary: 'Flagged process starts on {{ $labels.instance }} are far above its normal',
          description: [
            'Starts of processes with a finding on {{ $labels.instance }} run {{ $value | printf "%.1f" }} standard deviations',
            "above this host's own average of the last day, for 10 minutes: something is launching unknown programs in a loop.",
          ],
        },
        {
          alert: 'HostGuardUnknownExecutableFirstSeen',
          expr: 'hostguard_process_flagged{kind="unknown_executable"} unless hostguard_process_flagged{kind="unknown_executable"} offset 1d',
          severity: 'info',
          collector: 'processes',
          summary: 'New unknown executable {{ $labels.exe }} on {{ $labels.instance }} since yesterday',
          description: [
            '{{ $labels.exe }} runs on {{ $labels.instance }} without any rule, baseline entry or package accounting for it, and it',
            'was not running a day ago: a first sighting, for dashboards and context (info does not page).',
          ],
        },
        {
          alert: 'HostGuardListenerFirstSeen',
          expr: 'hostguard_network_unexpected_listener unless hostguard_network_unexpected_listener offset 1d',
          severity: 'info',
          collector: 'network',
          summary: 'New unexpected listener on port {{ $labels.port }} on {{ $labels.instance }} since yesterday',
          description: [
            '{{ $labels.exe }} listens on {{ $labels.protocol }} port {{ $labels.port }} on {{ $labels.instance }}, and this',
            'listener did not exist a day ago: a first sighting, for dashboards and context (info does not page).',
          ],
        },
      ],
    },
  ],
};

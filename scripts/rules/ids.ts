import type { RuleFile } from './rule-types.js';

export const idsRules: RuleFile = {
  file: 'hostguard-ids.yml',
  header: [
    'Intrusion detection systems on the host (collector "ids"): their high-severity alerts, and an IDS',
    'that went quiet or cannot be read. The IDS decides what an alert is; these rules decide what',
    'pages. Every alert carries collector="ids".',
  ],
  groups: [
    {
      name: 'hostguard-ids',
      collector: 'ids',
      rules: [
        {
          alert: 'HostGuardIDSHighSeverityAlerts',
          expr: 'sum without (category) (increase(hostguard_ids_alerts_total{alert_severity=~"critical|high"}[5m])) > 0',
          severity: 'critical',
          summary: '{{ $labels.tool }} raised {{ $labels.alert_severity }}-severity alerts on {{ $labels.instance }}',
          description: [
            '{{ $labels.tool }} ({{ $labels.source }}) on {{ $labels.instance }} raised about {{ $value | printf "%.0f" }}',
            '{{ $labels.alert_severity }}-severity alert(s) in the last 5 minutes. The signatures, addresses and payloads are in',
            'that output; an attack the IDS recognised is aimed at or coming from this host.',
          ],
        },
        {
          alert: 'HostGuardIDSSourceSilent',
          expr: [
            '(time() - hostguard_ids_source_last_write_timestamp_seconds) > hostguard_ids_source_max_silence_seconds',
            'and hostguard_ids_source_max_silence_seconds > 0',
            'unless hostguard_ids_source_healthy == 0',
          ],
          for: '1m',
          summary: '{{ $labels.tool }} stopped writing {{ $labels.source }} on {{ $labels.instance }}',
          description: [
            '{{ $labels.tool }} on {{ $labels.instance }} has not written {{ $labels.source }} for {{ $value | humanizeDuration }},',
            'longer than its max_silence: the IDS is dead, lost its interface, or writes to a file rotated away. Until it',
            'writes again, attacks on this host raise no IDS alert.',
          ],
        },
        {
          alert: 'HostGuardIDSSourceUnhealthy',
          expr: 'hostguard_ids_source_healthy == 0',
          for: '5m',
          summary: '{{ $labels.tool }} output {{ $labels.source }} cannot be read on {{ $labels.instance }}',
          description: [
            'hostguard-exporter on {{ $labels.instance }} cannot read {{ $labels.source }} ({{ $labels.tool }}) for 5 minutes:',
            'the file is missing or unreadable, and its alerts go uncounted.',
          ],
        },
      ],
    },
  ],
};

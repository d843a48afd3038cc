import type { RuleFile } from './rule-types.js';

export const networkRules: RuleFile = {
  file: 'hostguard-network.yml',
  header: [
    'Network detections: listening ports, outgoing connections and hidden ports (collector "network").',
    'Every alert carries collector="network", so that Alertmanager can inhibit them while that',
    'collector fails on the same instance (deploy/alertmanager.yml).',
  ],
  groups: [
    {
      name: 'hostguard-network',
      collector: 'network',
      rules: [
        {
          alert: 'HostGuardUnexpectedListener',
          expr: 'hostguard_network_unexpected_listener{reason!="unexpected_program"} > 0',
          for: '30s',
          summary: 'Unexpected {{ $labels.protocol }} listener on port {{ $labels.port }} on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) listens on {{ $labels.protocol }} port {{ $labels.port }}',
            '({{ $labels.address }}) on {{ $labels.instance }}, and no listeners rule or baseline entry accounts for it',
            '({{ $labels.reason }}). A backdoor listens; so does a newly deployed service nobody added to the policy.',
          ],
        },
        {
          alert: 'HostGuardListenerUnexpectedProgram',
          expr: 'hostguard_network_unexpected_listener{reason="unexpected_program"} > 0',
          severity: 'critical',
          summary: 'Port {{ $labels.port }} on {{ $labels.instance }} is held by an unexpected program',
          description: [
            '{{ $labels.protocol }} port {{ $labels.port }} on {{ $labels.instance }} is allowed only for another program or',
            'user, but {{ $labels.exe }} ({{ $labels.user_class }} user) holds it: a service replaced or hijacked on its own port.',
          ],
        },
        {
          alert: 'HostGuardUnexpectedOutbound',
          expr: 'hostguard_network_unexpected_outbound_connection > 0',
          for: '1m',
          summary: '{{ $labels.exe }} on {{ $labels.instance }} connects to an unexpected destination',
          description: [
            '{{ $labels.exe }} on {{ $labels.instance }} has {{ $value }} {{ $labels.protocol }} connection(s) to remote port',
            '{{ $labels.remote_port }} that no outbound rule allows: an implant calling home, or a program whose',
            'destinations are not in the policy yet.',
          ],
        },
        {
          alert: 'HostGuardHiddenPort',
          expr: 'hostguard_network_hidden_port > 0',
          summary: 'Hidden {{ $labels.protocol }} port {{ $labels.port }} on {{ $labels.instance }}',
          description: [
            '{{ $labels.protocol }} port {{ $labels.port }} on {{ $labels.instance }} is in use but appears in no /proc/net',
            'table, twice in a row: something hides a socket from ss and netstat, the mark of a kernel rootkit.',
          ],
        },
      ],
    },
  ],
};

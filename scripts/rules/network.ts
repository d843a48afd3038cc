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
            '{{ $labels.remote_port }} ({{ $labels.remote_class }}) that the outbound judgment reports ({{ $labels.reason }}):',
            'an implant calling home, a shell or interpreter reaching a new place, or a program whose destinations',
            'are not in the policy or baseline yet.',
          ],
        },
        {
          alert: 'HostGuardShellOnSocket',
          expr: 'hostguard_network_shell_on_socket{program_class!="other"} > 0',
          summary: 'Shell on a network socket ({{ $labels.exe }}) on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) on {{ $labels.instance }} has a {{ $labels.protocol }} socket as its',
            'standard input, output or error ({{ $labels.direction }}, {{ $labels.remote_class }} peer, port {{ $labels.port }}):',
            'a reverse or bind shell, someone typing commands on this host over the network.',
          ],
        },
        {
          alert: 'HostGuardProgramOnSocket',
          expr: 'hostguard_network_shell_on_socket{program_class="other"} > 0',
          for: '1m',
          severity: 'warning',
          summary: '{{ $labels.exe }} runs with a network socket as a standard stream on {{ $labels.instance }}',
          description: [
            '{{ $labels.exe }} ({{ $labels.user_class }} user) on {{ $labels.instance }} has a {{ $labels.protocol }} socket as its',
            'standard input, output or error ({{ $labels.direction }}, port {{ $labels.port }}) that no super-server listens on:',
            'an inetd-style service nobody declared, or a program run over a socket to escape into a shell.',
          ],
        },
        {
          alert: 'HostGuardShellOnSocketStarted',
          comment: [
            'A shell that started on a socket and was gone before a scrape saw it; one a scrape saw in the',
            "last 10 minutes is HostGuardShellOnSocket's already.",
          ],
          expr: [
            'sum without (program_class) (increase(hostguard_network_shell_on_socket_starts_total{program_class!="other"}[10m])) > 0',
            'unless on (job, instance) max by (job, instance) (max_over_time(hostguard_network_shell_on_socket{program_class!="other"}[10m]))',
          ],
          summary: 'A shell started on a network socket on {{ $labels.instance }}',
          description: [
            '{{ $value | printf "%.0f" }} shell(s) or interpreter(s) started on {{ $labels.instance }} in the last 10 minutes with a',
            'TCP or UDP socket as a standard stream, seen by the watch of new PIDs and gone before a scrape: a one-shot',
            'reverse shell (a command run and its output sent home).',
          ],
        },
        {
          alert: 'HostGuardFlaggedConnectionUpload',
          comment: ['Threshold here: 20 MiB sent in 10 minutes by connections that carry a finding.'],
          expr: 'sum without (kind) (increase(hostguard_network_flagged_bytes_total{direction="sent"}[10m])) > 20971520',
          severity: 'critical',
          summary: 'Large upload by a flagged connection on {{ $labels.instance }}',
          description: [
            'Connections of {{ $labels.instance }} that carry a finding (a shell on a socket, an unexpected outbound',
            'connection) sent {{ $value | humanize1024 }}B in the last 10 minutes: data leaving over a channel that',
            'should not exist (exfiltration).',
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

import { authServices } from '../../src/auth/patterns.js';
import { dashboard, query, row, stat, table, timeseries, type Panel } from './grafana.js';

const sel = 'job="$job", instance="$instance"';

const panels: Panel[] = [
  row('Now'),
  ...(['processes', 'network', 'integrity', 'auth'] as const).map((collector) =>
    stat({
      title: `${collector[0]!.toUpperCase()}${collector.slice(1)} findings`,
      description: `Current findings of the ${collector} collector on this host.`,
      queries: [query(`sum(hostguard_findings{${sel}, collector="${collector}"}) or vector(0)`, { instant: true, expectData: true })],
      width: 4,
    }),
  ),
  stat({
    title: 'Baseline',
    description:
      '1: the baseline verifies against its checksum (and HMAC). 0: missing, corrupt or tampered; the exporter judges by the policy alone.',
    queries: [query(`hostguard_baseline_verified{${sel}}`, { instant: true, expectData: true })],
    thresholds: [
      { value: null, color: 'red' },
      { value: 1, color: 'green' },
    ],
    width: 4,
  }),
  stat({
    title: 'Exporter up',
    description: "Whether Prometheus scrapes this host's exporter.",
    queries: [query(`up{${sel}}`, { instant: true, expectData: true })],
    thresholds: [
      { value: null, color: 'red' },
      { value: 1, color: 'green' },
    ],
    width: 4,
  }),
  table({
    title: 'Findings by kind',
    description:
      "Current findings by collector and kind. The subjects (pids, users, remote addresses) are on the exporter's own page and in `hostguard-exporter check`.",
    queries: [query(`hostguard_findings{${sel}} > 0`, { instant: true, table: true, expectData: true })],
    columns: { collector: 'Collector', kind: 'Kind', Value: 'Findings' },
    width: 8,
  }),
  table({
    title: 'Flagged processes',
    description: 'Running executables behind each process finding, with the user class and the number of processes.',
    queries: [query(`hostguard_process_flagged{${sel}}`, { instant: true, table: true, expectData: true })],
    columns: { exe: 'Executable', user_class: 'User class', kind: 'Kind', Value: 'Processes' },
    width: 16,
  }),
  table({
    title: 'Unexpected listeners',
    description: 'Listening sockets no rule or baseline entry accounts for, with the program holding them.',
    queries: [query(`hostguard_network_unexpected_listener{${sel}}`, { instant: true, table: true, expectData: true })],
    columns: {
      protocol: 'Protocol',
      address: 'Address',
      port: 'Port',
      exe: 'Executable',
      user_class: 'User class',
      reason: 'Reason',
      Value: 'Sockets',
    },
    width: 12,
  }),
  table({
    title: 'Unexpected outbound connections',
    description:
      'Outgoing connections the outbound judgment reports, per program, reason (flagged_process: the program has a finding; new_destination: a shell, interpreter or network tool to a destination the baseline never saw it use; not_allowed: judge: all), destination class and remote port.',
    queries: [query(`hostguard_network_unexpected_outbound_connection{${sel}}`, { instant: true, table: true })],
    columns: {
      protocol: 'Protocol',
      exe: 'Executable',
      reason: 'Reason',
      remote_class: 'Destination',
      remote_port: 'Remote port',
      Value: 'Connections',
    },
    width: 12,
  }),
  table({
    title: 'Shells on sockets',
    description:
      'Processes whose standard input, output or error is a TCP or UDP socket no super-server listens on: reverse shells (outgoing) and bind shells (incoming). Interpreters and network tools page; other programs ticket.',
    queries: [query(`hostguard_network_shell_on_socket{${sel}}`, { instant: true, table: true })],
    columns: {
      exe: 'Executable',
      user_class: 'User class',
      program_class: 'Program',
      protocol: 'Protocol',
      direction: 'Direction',
      remote_class: 'Peer',
      port: 'Port',
      Value: 'Processes',
    },
    width: 12,
  }),
  table({
    title: 'Integrity mismatches',
    description: 'Watched paths that do not match the baseline or the package database, by kind and attribute.',
    queries: [query(`hostguard_integrity_mismatch{${sel}}`, { instant: true, table: true, expectData: true })],
    columns: { path: 'Path', kind: 'Kind', attribute: 'Attribute' },
  }),
  row('Processes'),
  timeseries({
    title: 'Process starts by verdict',
    description:
      'Processes seen starting per minute by the watch of new PIDs, by the verdict on their first look: anything but known, kernel_thread, other_root (a container process without a finding) and unexamined is a finding.',
    queries: [
      query(`sum by (verdict) (rate(hostguard_process_starts_total{${sel}}[$__rate_interval])) * 60`, {
        legend: '{{verdict}}',
        expectData: true,
      }),
    ],
    stack: true,
    width: 8,
  }),
  timeseries({
    title: 'Processes examined and not judged',
    description:
      "Processes read per collection; those that could not be judged at all (permission denied when not root, malformed /proc files); and those in containers (another root than the host's), judged for writable_location and name_mismatch but not for their identity or deleted executables.",
    queries: [
      query(`hostguard_processes_examined{${sel}}`, { legend: '{{type}}', expectData: true }),
      query(`hostguard_processes_unjudged{${sel}} > 0`, { legend: 'unjudged: {{reason}}' }),
      query(`hostguard_processes_identity_unjudged{${sel}} > 0`, { legend: 'identity unjudged: {{reason}}' }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Hidden processes',
    description: 'Processes hidden from the /proc listing, their /proc entry or ps, from the last sweep.',
    queries: [query(`hostguard_processes_hidden{${sel}}`, { legend: '{{view}}', expectData: true })],
    width: 8,
  }),
  timeseries({
    title: 'CPU of flagged processes',
    description: 'Cores used by processes that have a finding, per executable (the cryptominer view).',
    unit: 'short',
    queries: [query(`deriv(hostguard_process_flagged_cpu_seconds{${sel}}[$__rate_interval])`, { legend: '{{exe}}', expectData: true })],
  }),
  timeseries({
    title: 'Memory of flagged processes',
    description: 'Resident memory of processes that have a finding, per executable.',
    unit: 'bytes',
    queries: [query(`hostguard_process_flagged_resident_bytes{${sel}}`, { legend: '{{exe}}', expectData: true })],
  }),
  timeseries({
    title: 'Execs by verdict (audit log)',
    description:
      'Execs per minute read from the kernel audit log (processes.exec_events), by verdict: every exec, also those that live a millisecond. Empty where exec_events is not set.',
    queries: [
      query(`sum by (verdict) (rate(hostguard_process_exec_events_total{${sel}}[$__rate_interval])) * 60`, { legend: '{{verdict}}' }),
    ],
    stack: true,
    width: 8,
  }),
  timeseries({
    title: 'Flagged execs of gone processes',
    description:
      'Execs with a finding whose process is gone, within exec_events.hold, by what ran (the executable, or the script or program a runner ran) and kind.',
    queries: [query(`hostguard_process_flagged_execs{${sel}}`, { legend: '{{exe}} ({{kind}})' })],
    width: 8,
  }),
  timeseries({
    title: 'Exec source health and inline code',
    description:
      'Whether execs are seen (1) and why not (auditing off, rules removed, auditd stopped); records the kernel dropped; interpreters handed code inline or on stdin (sh -c, curl … | sh) per minute.',
    queries: [
      query(`hostguard_process_exec_source_healthy{${sel}}`, { legend: 'healthy' }),
      query(`hostguard_process_exec_auditing_off{${sel}} > 0`, { legend: 'off: {{reason}}' }),
      query(`increase(hostguard_process_exec_kernel_lost_total{${sel}}[$__rate_interval])`, { legend: 'kernel lost records' }),
      query(`sum by (interpreter, via) (rate(hostguard_process_inline_code_total{${sel}}[$__rate_interval])) * 60`, {
        legend: 'inline {{interpreter}} ({{via}})',
      }),
    ],
    width: 8,
  }),
  row('Containers'),
  timeseries({
    title: 'Containers by runtime and image source',
    description:
      "Containers that had a process in the last collection, by runtime and by where their image name came from: runtime_state (runc's state, annotated by containerd and CRI-O), docker_api, or none (named by id only; containers.allow rules by image do not match them).",
    queries: [query(`hostguard_containers{${sel}}`, { legend: '{{runtime}} {{image_source}}', expectData: true })],
    stack: true,
    width: 8,
  }),
  timeseries({
    title: 'Container processes by where their executable lives',
    description:
      "image: from the image's layers; writable_layer: written into the container after it started (container_drift); other_mount (volumes, tmpfs), not_overlayfs (rootless fuse-overlayfs, other storage drivers) and unreadable: not judged for drift.",
    queries: [query(`hostguard_container_processes{${sel}}`, { legend: '{{layer}}', expectData: true })],
    stack: true,
    width: 8,
  }),
  table({
    title: 'Flagged container processes',
    description:
      "Processes in containers behind each finding, by kind, image repository and Kubernetes pod UID. With kube-state-metrics, the next table names the pods; container ids and names are in the findings on the exporter's page.",
    queries: [query(`hostguard_container_process_flagged{${sel}}`, { instant: true, table: true })],
    columns: { kind: 'Kind', image: 'Image', pod_uid: 'Pod UID', Value: 'Processes' },
    width: 8,
  }),
  table({
    title: 'Flagged pods (kube-state-metrics)',
    description:
      'The flagged pods by namespace and name: the recording rule pod:hostguard_container_process_flagged:join_kube_pod_info joins the pod UID with kube_pod_info{uid}. Empty without kube-state-metrics.',
    queries: [query(`pod:hostguard_container_process_flagged:join_kube_pod_info{${sel}}`, { instant: true, table: true })],
    columns: { namespace: 'Namespace', pod: 'Pod', kind: 'Kind', image: 'Image', Value: 'Processes' },
  }),
  row('Network'),
  timeseries({
    title: 'Listening sockets',
    description: 'Listening sockets by protocol and family, as ss -tuln counts them.',
    queries: [query(`hostguard_network_listeners{${sel}}`, { legend: '{{protocol}} {{family}}', expectData: true })],
    width: 8,
  }),
  timeseries({
    title: 'Unexpected listeners by reason',
    description:
      'not_allowed: an unknown port; unexpected_program: an allowed port held by another program; owner_unknown: the owner could not be read.',
    queries: [query(`hostguard_network_unexpected_listeners{${sel}}`, { legend: '{{protocol}} {{reason}}', expectData: true })],
    width: 8,
  }),
  timeseries({
    title: 'Hidden ports',
    description: 'Ports in use but absent from /proc/net, from the last sweep.',
    queries: [query(`hostguard_network_hidden_ports{${sel}}`, { legend: '{{protocol}}', expectData: true })],
    width: 8,
  }),
  timeseries({
    title: 'Traffic of flagged connections',
    description:
      "Bytes per second sent and received by TCP connections that carry a finding (a shell on a socket, an unexpected outbound connection), from the kernel's TCP info (ss -ti). UDP and connections that open and close between two collections are not counted.",
    unit: 'Bps',
    queries: [
      query(`sum by (direction, kind) (rate(hostguard_network_flagged_bytes_total{${sel}}[$__rate_interval]))`, {
        legend: '{{kind}} {{direction}}',
        expectData: true,
      }),
    ],
    width: 12,
  }),
  timeseries({
    title: 'Outgoing connections and shells started on sockets',
    description:
      'Outgoing connections judged (loopback excluded), those that are findings by reason, and shells, interpreters or network tools the watch of new PIDs saw start on a socket (per minute), also those gone before a scrape.',
    queries: [
      query(`hostguard_network_outbound_connections{${sel}}`, { legend: 'outgoing {{protocol}}' }),
      query(`sum by (reason) (hostguard_network_unexpected_outbound_connections{${sel}})`, { legend: 'unexpected: {{reason}}' }),
      query(`sum by (program_class) (rate(hostguard_network_shell_on_socket_starts_total{${sel}}[$__rate_interval])) * 60`, {
        legend: 'started on a socket: {{program_class}}',
        expectData: true,
      }),
    ],
    width: 12,
  }),
  row('Integrity'),
  timeseries({
    title: 'Scan history',
    description:
      'Duration of the last integrity scan and the files it hashed (the rest matched the fast path); a full rehash reads everything.',
    queries: [
      query(`hostguard_integrity_last_scan_duration_seconds{${sel}}`, { legend: 'duration (s)', expectData: true }),
      query(`hostguard_integrity_last_scan_hashed_files{${sel}}`, { legend: 'files hashed', expectData: true }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Time since the last scan and package activity',
    description:
      'Age of the last finished integrity scan (alert above twice the schedule interval) and of the last package manager run (for context: package changes are explained and accepted file by file, hostguard_baseline_auto_accepted_total).',
    unit: 's',
    queries: [
      query(
        `time() - hostguard_integrity_last_scan_end_timestamp_seconds{${sel}} > 0 and hostguard_integrity_last_scan_end_timestamp_seconds{${sel}} > 0`,
        { legend: 'since last scan', expectData: true },
      ),
      query(`hostguard_integrity_schedule_interval_seconds{${sel}}`, { legend: 'schedule interval', expectData: true }),
      query(`time() - max(hostguard_package_manager_last_activity_timestamp_seconds{${sel}})`, {
        legend: 'since package manager ran',
        expectData: true,
      }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Watched files and scan problems',
    description:
      'Paths watched by type, and those the last scan could not fully observe (vanished, changed while read, unreadable, symlink loops).',
    queries: [
      query(`sum(hostguard_integrity_watched_files{${sel}})`, { legend: 'watched', expectData: true }),
      query(`hostguard_integrity_scan_problems{${sel}} > 0`, { legend: 'problem: {{problem}}' }),
      query(`hostguard_integrity_running_executables{${sel}}`, { legend: 'running executables {{result}}', expectData: true }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Real-time watch',
    description:
      'Rescans started by the inotify watch per minute, by reason (changes: the changed paths; overflow, burst, package_manager, accounts: the whole watched set), and directories that could not be watched (the watch limit: HostGuardIntegrityWatchIncomplete).',
    queries: [
      query(`sum by (reason) (rate(hostguard_integrity_watch_rescans_total{${sel}}[$__rate_interval])) * 60`, {
        legend: 'rescans: {{reason}}',
      }),
      query(`sum(hostguard_integrity_watch_unwatched_directories{${sel}})`, { legend: 'unwatched directories' }),
      query(`hostguard_integrity_watch_directories{${sel}}`, { legend: 'watched directories' }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Write → judged (p99)',
    description:
      'Seconds from the first inotify event of a batch to the end of its rescan (the next scrape judges it), 99th percentile over the interval; the budget is 2 s.',
    unit: 's',
    queries: [
      query(`histogram_quantile(0.99, sum by (le) (rate(hostguard_integrity_watch_latency_seconds_bucket{${sel}}[$__rate_interval])))`, {
        legend: 'p99',
      }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Setuid, setgid and capability files',
    description:
      'Files the hourly search of the local file systems found, by privilege, and how long the search took (bounded by integrity.privileged_files.max_entries_per_second). New ones: HostGuardPrivilegedFileAdded.',
    queries: [
      query(`hostguard_integrity_privileged_files{${sel}}`, { legend: '{{privilege}}' }),
      query(`hostguard_integrity_privileged_search_duration_seconds{${sel}}`, { legend: 'search duration (s)' }),
    ],
    width: 8,
  }),
  row('Kernel'),
  table({
    title: 'Kernel changes since the baseline',
    description: 'Modules loaded, module-related taint flags gained and security sysctls changed since the baseline (collector kernel).',
    queries: [query(`hostguard_kernel_mismatch{${sel}}`, { instant: true, table: true })],
    columns: { kind: 'Kind', name: 'Module, taint flags or sysctl' },
    width: 12,
  }),
  timeseries({
    title: 'Modules and taint',
    description: 'Kernel modules loaded (/proc/modules) and the taint mask (/proc/sys/kernel/tainted; 0 is untainted).',
    queries: [
      query(`hostguard_kernel_modules{${sel}}`, { legend: 'modules' }),
      query(`hostguard_kernel_tainted{${sel}}`, { legend: 'taint mask' }),
    ],
    width: 12,
  }),
  row('Authentication'),
  timeseries({
    title: 'Failures by service and reason',
    description: `Failed authentication attempts per minute (attempts, not log lines). Services: ${authServices.join(', ')} (other: any other PAM program; docs/auth-sources.md).`,
    queries: [
      query(`sum by (service, reason) (rate(hostguard_auth_failures_total{${sel}}[$__rate_interval])) * 60`, {
        legend: '{{service}} {{reason}}',
        expectData: true,
      }),
    ],
    stack: true,
    width: 8,
  }),
  timeseries({
    title: 'Successful logins by service and method',
    description:
      'Successful logins per minute; a success right after a burst of failures is the dangerous case, counted on its own (success_after_failures).',
    queries: [
      query(`sum by (service, method, user_class) (rate(hostguard_auth_successes_total{${sel}}[$__rate_interval])) * 60`, {
        legend: '{{service}} {{method}} {{user_class}}',
        expectData: true,
      }),
      query(`increase(hostguard_auth_success_after_failures_total{${sel}}[$__rate_interval]) > 0`, {
        legend: 'after repeated failures {{service}}',
      }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Distinct failing sources',
    description: 'Distinct addresses with failed attempts in the last 5 and 15 minutes (an estimate).',
    queries: [query(`hostguard_auth_failing_sources{${sel}}`, { legend: '{{window}}', expectData: true })],
    width: 8,
  }),
  timeseries({
    title: 'Auth sources',
    description:
      "Whether each auth source can be read (1), how many bytes wait to be read, read errors, how often a journal source's journalctl had to be started again, and tampering outside a rotation.",
    queries: [
      query(`hostguard_auth_source_healthy{${sel}}`, { legend: 'healthy {{source}}', expectData: true }),
      query(`hostguard_auth_source_lag_bytes{${sel}}`, { legend: 'lag bytes {{source}}', expectData: true }),
      query(`increase(hostguard_auth_source_read_errors_total{${sel}}[$__rate_interval])`, {
        legend: 'read errors {{source}}',
        expectData: true,
      }),
      query(`increase(hostguard_auth_source_restarts_total{${sel}}[$__rate_interval])`, { legend: 'journalctl restarts {{source}}' }),
      query(`increase(hostguard_auth_log_tampering_total{${sel}}[$__rate_interval]) > 0`, { legend: 'tampered {{source}} {{kind}}' }),
    ],
    width: 12,
  }),
  timeseries({
    title: 'Anomaly z-scores',
    description:
      "How far the current auth failure rate and flagged process start rate are from this host's own average of the last day, in standard deviations (recording rules in rules/hostguard-anomaly.yml; the alerts fire above 3).",
    queries: [
      query(`instance:hostguard_auth_failures:rate5m_zscore_1d{${sel}}`, { legend: 'auth failures', expectData: true }),
      query(`instance:hostguard_process_starts:rate5m_flagged_zscore_1d{${sel}}`, { legend: 'flagged process starts', expectData: true }),
    ],
    thresholds: [
      { value: null, color: 'green' },
      { value: 3, color: 'red' },
    ],
    width: 12,
  }),
  row('Intrusion detection and audits'),
  timeseries({
    title: 'IDS alerts by tool and severity',
    description:
      'Alerts per minute from the IDS outputs in the policy (ids.sources): Suricata severity and Snort priority 1 are high, Wazuh level 12-14 high and 15 critical.',
    queries: [
      query(`sum by (tool, alert_severity) (rate(hostguard_ids_alerts_total{${sel}}[$__rate_interval])) * 60`, {
        legend: '{{tool}} {{alert_severity}}',
        expectData: true,
      }),
    ],
    stack: true,
    width: 8,
  }),
  timeseries({
    title: 'IDS alerts by category',
    description: 'Alerts per minute by category class (exploit, malware, credential, recon, ...), all tools together.',
    queries: [
      query(`sum by (category) (rate(hostguard_ids_alerts_total{${sel}}[$__rate_interval])) * 60`, {
        legend: '{{category}}',
        expectData: true,
      }),
    ],
    stack: true,
    width: 8,
  }),
  timeseries({
    title: 'Time since each IDS wrote',
    description:
      'Age of the last write to each IDS output, against its max_silence (HostGuardIDSSourceSilent fires above it): a rising line is a dead sensor.',
    unit: 's',
    queries: [
      query(`time() - hostguard_ids_source_last_write_timestamp_seconds{${sel}}`, { legend: '{{tool}} {{source}}', expectData: true }),
      query(`hostguard_ids_source_max_silence_seconds{${sel}} > 0`, { legend: 'max silence {{tool}} {{source}}' }),
    ],
    width: 8,
  }),
  table({
    title: 'Top IDS signatures',
    description:
      'Alerts in the last 15 minutes of the most frequent signatures (opt-in: ids.top_signatures in the policy; empty otherwise).',
    queries: [query(`hostguard_ids_top_signature_alerts{${sel}}`, { instant: true, table: true, expectData: true })],
    columns: { tool: 'Tool', signature_id: 'Signature ID', signature: 'Signature', Value: 'Alerts (15 min)' },
    sortBy: 'Value',
    width: 12,
  }),
  stat({
    title: 'Lynis hardening index',
    description: 'Hardening index of the newest complete Lynis report (audit.lynis_report), and the one recorded in the baseline.',
    queries: [
      query(`hostguard_audit_hardening_index{${sel}}`, { instant: true, legend: 'now', expectData: true }),
      query(`hostguard_audit_baseline_hardening_index{${sel}}`, { instant: true, legend: 'baseline', expectData: true }),
    ],
    thresholds: [
      { value: null, color: 'red' },
      { value: 50, color: 'orange' },
      { value: 70, color: 'green' },
    ],
    width: 4,
  }),
  table({
    title: 'New Lynis warnings',
    description:
      'Lynis warnings (by test ID) that the baseline does not hold and the policy does not accept; `lynis show details TEST` explains each.',
    queries: [query(`hostguard_audit_new_warning{${sel}}`, { instant: true, table: true, expectData: true })],
    columns: { test: 'Lynis test', Value: 'Warnings' },
    width: 4,
  }),
  timeseries({
    title: 'Lynis report age and findings',
    description:
      'Age of the newest complete Lynis report against audit.max_report_age (HostGuardAuditReportStale), and its warnings and suggestions.',
    queries: [
      query(`time() - hostguard_audit_report_timestamp_seconds{${sel}}`, { legend: 'report age (s)', expectData: true }),
      query(`hostguard_audit_report_max_age_seconds{${sel}}`, { legend: 'max age (s)', expectData: true }),
      query(`hostguard_audit_warnings{${sel}}`, { legend: 'warnings', expectData: true }),
      query(`hostguard_audit_suggestions{${sel}}`, { legend: 'suggestions', expectData: true }),
    ],
    width: 16,
  }),
  row('The exporter'),
  timeseries({
    title: 'Collector duration',
    description: 'Time each collector took in the last collection.',
    unit: 's',
    queries: [query(`hostguard_scrape_collector_duration_seconds{${sel}}`, { legend: '{{collector}}', expectData: true })],
    width: 8,
  }),
  timeseries({
    title: 'Exporter CPU',
    description: "Cores used by hostguard-exporter itself, and Prometheus' scrape duration.",
    unit: 'short',
    queries: [
      query(`rate(process_cpu_seconds_total{${sel}}[$__rate_interval])`, { legend: 'cores', expectData: true }),
      query(`scrape_duration_seconds{${sel}}`, { legend: 'scrape seconds', expectData: true }),
    ],
    width: 8,
  }),
  timeseries({
    title: 'Exporter memory',
    description: 'Resident memory of hostguard-exporter.',
    unit: 'bytes',
    queries: [query(`process_resident_memory_bytes{${sel}}`, { legend: 'resident', expectData: true })],
    width: 8,
  }),
];

export const hostDashboard = dashboard({
  uid: 'hostguard-host',
  title: 'HostGuard / Host detail',
  description:
    "Everything hostguard-exporter reports for one host: current findings with their subjects, processes, network, integrity, authentication, anomalies, IDS alerts and Lynis audits, and the exporter's own cost.",
  tags: ['hostguard', 'security'],
  instanceMulti: false,
  panels,
  links: [
    {
      title: 'Fleet overview',
      type: 'link',
      url: '/d/hostguard-overview/hostguard-fleet-overview?${datasource:queryparam}&var-job=${job}',
      icon: 'dashboard',
      keepTime: true,
    },
  ],
});

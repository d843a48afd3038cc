import { authServices } from '../../src/auth/patterns.js';
import { dashboard, query, row, stat, table, timeseries, type Panel } from './grafana.js';

const sel = 'job="$job", instance=~"$instance"';
const hostLink = {
  title: 'Host detail',
  url: '/d/hostguard-host/hostguard-host-detail?${datasource:queryparam}&var-job=${job}&var-instance=${__data.fields.instance}',
};

const panels: Panel[] = [
  row('Where is something wrong now'),
  stat({
    title: 'Hosts watched',
    description: 'hostguard-exporter targets Prometheus scrapes successfully.',
    queries: [query(`count(up{${sel}} == 1)`, { instant: true, expectData: true })],
    thresholds: [{ value: null, color: 'blue' }],
    width: 4,
  }),
  stat({
    title: 'Exporters down',
    description: 'Targets whose scrape fails: nothing on those hosts is watched (HostGuardExporterDown).',
    queries: [query(`count(up{${sel}} == 0) or vector(0)`, { instant: true, expectData: true })],
    width: 4,
  }),
  stat({
    title: 'Hosts with findings',
    description: 'Hosts with at least one current finding from any collector.',
    queries: [query(`count(sum by (instance) (hostguard_findings{${sel}}) > 0) or vector(0)`, { instant: true, expectData: true })],
    width: 4,
  }),
  stat({
    title: 'Process findings',
    description: 'Current process findings on all selected hosts: unknown, misplaced, masquerading, hidden processes.',
    queries: [query(`sum(hostguard_findings{${sel}, collector="processes"}) or vector(0)`, { instant: true, expectData: true })],
    width: 4,
  }),
  stat({
    title: 'Network findings',
    description: 'Current unexpected listeners, outbound connections and hidden ports on all selected hosts.',
    queries: [query(`sum(hostguard_findings{${sel}, collector="network"}) or vector(0)`, { instant: true, expectData: true })],
    width: 4,
  }),
  stat({
    title: 'Integrity findings',
    description: 'Current file and binary mismatches (changed, added, removed, metadata, running binary, package) on all selected hosts.',
    queries: [query(`sum(hostguard_findings{${sel}, collector="integrity"}) or vector(0)`, { instant: true, expectData: true })],
    width: 4,
  }),
  stat({
    title: 'Auth failures / min',
    description: 'Failed authentication attempts per minute on all selected hosts (attempts, not log lines).',
    unit: 'short',
    decimals: 1,
    queries: [query(`sum(rate(hostguard_auth_failures_total{${sel}}[$__rate_interval])) * 60`, { instant: true, expectData: true })],
    thresholds: [
      { value: null, color: 'green' },
      { value: 10, color: 'orange' },
      { value: 60, color: 'red' },
    ],
    width: 4,
  }),
  table({
    title: 'Hosts with findings',
    description:
      'Every selected host with its current findings by collector, auth failure rate, baseline state and scrape state. Sort by any column; the host name opens the host dashboard.',
    queries: [
      query(`sum by (instance) (hostguard_findings{${sel}, collector="processes"})`, { instant: true, table: true, expectData: true }),
      query(`sum by (instance) (hostguard_findings{${sel}, collector="network"})`, { instant: true, table: true, expectData: true }),
      query(`sum by (instance) (hostguard_findings{${sel}, collector="integrity"})`, { instant: true, table: true, expectData: true }),
      query(`sum by (instance) (rate(hostguard_auth_failures_total{${sel}}[$__rate_interval])) * 60`, {
        instant: true,
        table: true,
        expectData: true,
      }),
      query(`max by (instance) (hostguard_baseline_verified{${sel}})`, { instant: true, table: true, expectData: true }),
      query(`max by (instance) (up{${sel}})`, { instant: true, table: true, expectData: true }),
    ],
    columns: {
      instance: 'instance',
      'Value #A': 'Process findings',
      'Value #B': 'Network findings',
      'Value #C': 'Integrity findings',
      'Value #D': 'Auth failures / min',
      'Value #E': 'Baseline verified',
      'Value #F': 'Up',
    },
    links: { instance: hostLink },
    units: { 'Value #D': 'short' },
    sortBy: 'Value #A',
  }),
  row('Over time'),
  timeseries({
    title: 'Auth failures by service and reason',
    description: `Failed attempts per minute, by service and reason. Services: ${authServices.join(', ')} (other: any other PAM program; docs/auth-sources.md).`,
    unit: 'short',
    queries: [
      query(`sum by (service, reason) (rate(hostguard_auth_failures_total{${sel}}[$__rate_interval])) * 60`, {
        legend: '{{service}} {{reason}}',
        expectData: true,
      }),
    ],
    stack: true,
  }),
  timeseries({
    title: 'Findings by collector and kind',
    description: 'Current findings over time, summed over the selected hosts.',
    queries: [query(`sum by (collector, kind) (hostguard_findings{${sel}}) > 0`, { legend: '{{collector}} {{kind}}', expectData: true })],
    stack: true,
  }),
  table({
    title: 'Firing HostGuard alerts',
    description: "Alerts from rules/ firing now, from Prometheus' ALERTS series.",
    queries: [
      query(`ALERTS{alertname=~"HostGuard.+", alertstate="firing", instance=~"$instance"}`, {
        instant: true,
        table: true,
        expectData: true,
      }),
    ],
    columns: {
      alertname: 'Alert',
      instance: 'instance',
      severity: 'Severity',
      collector: 'Collector',
      exe: 'Executable',
      port: 'Port',
      path: 'Path',
      service: 'Service',
    },
    links: { instance: hostLink },
    height: 8,
  }),
  table({
    title: 'Containers with findings',
    description:
      'Per host, image repository and finding kind: the processes in containers behind each finding (drift from the image, package managers, interactive shells, ...). The host detail dashboard names the pods.',
    queries: [query(`sum by (instance, image, kind) (hostguard_container_process_flagged{${sel}})`, { instant: true, table: true })],
    columns: { instance: 'instance', image: 'Image', kind: 'Kind', Value: 'Processes' },
    links: { instance: hostLink },
    height: 8,
  }),
  table({
    title: 'IDS alerts and Lynis audits by host',
    description:
      'Per host: high and critical IDS alerts per minute (HostGuardIDSHighSeverityAlerts), IDS outputs silent past their max_silence, the Lynis hardening index, new Lynis warnings and the report age. Hosts without the ids or audit collector have empty cells.',
    queries: [
      query(`sum by (instance) (rate(hostguard_ids_alerts_total{${sel}, alert_severity=~"critical|high"}[$__rate_interval])) * 60`, {
        instant: true,
        table: true,
        expectData: true,
      }),
      query(
        `count by (instance) ((time() - hostguard_ids_source_last_write_timestamp_seconds{${sel}}) > hostguard_ids_source_max_silence_seconds{${sel}} > 0)`,
        { instant: true, table: true },
      ),
      query(`max by (instance) (hostguard_audit_hardening_index{${sel}})`, { instant: true, table: true, expectData: true }),
      query(`count by (instance) (hostguard_audit_new_warning{${sel}})`, { instant: true, table: true, expectData: true }),
      query(`max by (instance) (time() - hostguard_audit_report_timestamp_seconds{${sel}})`, {
        instant: true,
        table: true,
        expectData: true,
      }),
    ],
    columns: {
      instance: 'instance',
      'Value #A': 'High IDS alerts / min',
      'Value #B': 'Silent IDS outputs',
      'Value #C': 'Hardening index',
      'Value #D': 'New Lynis warnings',
      'Value #E': 'Report age',
    },
    links: { instance: hostLink },
    units: { 'Value #A': 'short', 'Value #E': 's' },
    sortBy: 'Value #A',
    height: 8,
  }),
  ...fleetRow(),
  row('Exporter health'),
  timeseries({
    title: 'Collectors failing',
    description: 'Collectors whose last collection failed, per host (HostGuardCollectorFailing after 5 minutes).',
    queries: [
      query(
        `count by (instance) (hostguard_scrape_collector_success{${sel}} == 0) or count by (instance) (hostguard_scrape_collector_success{${sel}}) * 0`,
        { legend: '{{instance}}', expectData: true },
      ),
    ],
    width: 12,
  }),
  timeseries({
    title: 'Time since the last sweep or scan',
    description:
      'Age of the newest hidden-process sweep, hidden-port sweep and integrity scan, per host: a rising line is a schedule that stopped.',
    unit: 's',
    queries: [
      query(`time() - max by (instance) (hostguard_process_hidden_sweep_last_timestamp_seconds{${sel}} > 0)`, {
        legend: '{{instance}} hidden processes',
        expectData: true,
      }),
      query(`time() - max by (instance) (hostguard_network_hidden_port_sweep_last_timestamp_seconds{${sel}} > 0)`, {
        legend: '{{instance}} hidden ports',
        expectData: true,
      }),
      query(`time() - max by (instance) (hostguard_integrity_last_scan_end_timestamp_seconds{${sel}} > 0)`, {
        legend: '{{instance}} integrity scan',
        expectData: true,
      }),
    ],
    width: 12,
  }),
  table({
    title: 'Baselines: old, unconfirmed or unverified',
    description:
      "Every host's baseline: age, whether it verifies (checksum/HMAC), whether it was learned at first start and never confirmed. Oldest first.",
    queries: [
      query(`max by (instance) (hostguard_baseline_age_seconds{${sel}})`, { instant: true, table: true, expectData: true }),
      query(`max by (instance) (hostguard_baseline_verified{${sel}})`, { instant: true, table: true, expectData: true }),
      query(`max by (instance) (hostguard_baseline_trust_on_first_use{${sel}})`, { instant: true, table: true, expectData: true }),
      query(`max by (instance) (hostguard_baseline_present{${sel}})`, { instant: true, table: true, expectData: true }),
    ],
    columns: {
      instance: 'instance',
      'Value #A': 'Age',
      'Value #B': 'Verified',
      'Value #C': 'Learned at first start',
      'Value #D': 'Present',
    },
    links: { instance: hostLink },
    units: { 'Value #A': 's' },
    sortBy: 'Value #A',
    height: 8,
  }),
];

/**
 * What runs on few hosts: the fleet facts counted across the job by rules/hostguard-fleet.yml. "Rare"
 * is at most 3 hosts, the K of those rules; the counts are the whole job's, the rows only the
 * selected hosts'.
 */
function fleetRow(): Panel[] {
  const facts = `hostguard_flagged_executable_info{${sel}}`;
  const rareExecutables = `hostguard_flagged_executable_info{${sel}} * on (job, sha256) group_left () (job_hash:hostguard_flagged_executable_info:count_hosts <= 3)`;
  const hashesHere = `job_hash:hostguard_flagged_executable_info:count_hosts{job="$job"} and on (job, sha256) ${facts}`;
  return [
    row('Fleet: what runs on few hosts'),
    stat({
      title: 'Flagged executables (distinct hashes)',
      description: 'Distinct SHA-256 of the executables with a finding on the selected hosts (hostguard_flagged_executable_info).',
      queries: [query(`count(count by (sha256) (${facts})) or vector(0)`, { instant: true, expectData: true })],
      thresholds: [{ value: null, color: 'blue' }],
      width: 6,
    }),
    stat({
      title: 'Rare flagged executables',
      description:
        'Distinct hashes among them that run on at most 3 hosts of the whole job (HostGuardRareExecutable fires for these once the job has at least 10 hosts reporting).',
      queries: [query(`count(count by (sha256) (${rareExecutables})) or vector(0)`, { instant: true, expectData: true })],
      width: 6,
    }),
    stat({
      title: 'Fleet facts left out',
      description:
        'Flagged executables and listeners over the per-host budget (fleet_facts.max_series) or still waiting for their hash: the fleet view misses them.',
      queries: [
        query(
          `sum(hostguard_finding_series_dropped{${sel}, metric=~"hostguard_flagged_executable_info|hostguard_flagged_listener_info"}) + sum(hostguard_flagged_executables_unhashed{${sel}}) or vector(0)`,
          { instant: true, expectData: true },
        ),
      ],
      width: 6,
    }),
    stat({
      title: 'Hosts reporting fleet facts',
      description:
        'Hosts of the job that are up with every flagged executable hashed: rarity is judged only while at least 10 report (job:hostguard_reporting_hosts:count).',
      queries: [
        query(
          `count(up{${sel}} == 1 unless on (job, instance) (hostguard_flagged_executables_unhashed{${sel}, reason="pending"} > 0)) or vector(0)`,
          { instant: true, expectData: true },
        ),
      ],
      thresholds: [{ value: null, color: 'blue' }],
      width: 6,
    }),
    table({
      title: 'Rare executables: hash, hosts, first seen',
      description:
        'Hashes of flagged executables on the selected hosts that the fewest hosts of the job run, with how many run them and when any host of the job first ran them (remembered for 7 days of absence).',
      queries: [
        query(`bottomk(25, ${hashesHere})`, { instant: true, table: true, expectData: true }),
        query(
          `job_hash:hostguard_flagged_executable_info:first_seen_timestamp_seconds{job="$job"} * 1000 and on (job, sha256) bottomk(25, ${hashesHere})`,
          { instant: true, table: true, expectData: true },
        ),
      ],
      columns: { sha256: 'SHA-256', 'Value #A': 'Hosts', 'Value #B': 'First seen' },
      units: { 'Value #B': 'dateTimeAsIso' },
      width: 12,
    }),
    table({
      title: 'Where the rare executables run',
      description:
        'Every selected host running a flagged executable that at most 3 hosts of the job run: the hosts HostGuardRareExecutable names. The host name opens the host dashboard.',
      queries: [query(rareExecutables, { instant: true, table: true, expectData: true })],
      columns: { instance: 'instance', exe: 'Executable', kind: 'Kind', sha256: 'SHA-256', Value: 'Hosts' },
      links: { instance: hostLink },
      width: 12,
    }),
    table({
      title: 'Rare listeners',
      description:
        'Unexpected listeners on the selected hosts whose program and port at most 3 hosts of the job have (HostGuardRareListener). An empty SHA-256 is a socket no readable process holds.',
      queries: [
        query(
          `hostguard_flagged_listener_info{${sel}} * on (job, sha256, protocol, port) group_left () (job_hash_port:hostguard_flagged_listener_info:count_hosts <= 3)`,
          {
            instant: true,
            table: true,
            expectData: true,
          },
        ),
      ],
      columns: { instance: 'instance', protocol: 'Protocol', port: 'Port', exe: 'Program', sha256: 'SHA-256', Value: 'Hosts' },
      links: { instance: hostLink },
      width: 12,
    }),
    table({
      title: 'Hosts by findings',
      description:
        'The selected hosts with the most current findings, with their flagged executables and unexpected listeners as fleet facts.',
      queries: [
        query(`topk(20, sum by (instance) (hostguard_findings{${sel}}))`, { instant: true, table: true, expectData: true }),
        query(`count by (instance) (hostguard_flagged_executable_info{${sel}})`, { instant: true, table: true, expectData: true }),
        query(`count by (instance) (hostguard_flagged_listener_info{${sel}})`, { instant: true, table: true, expectData: true }),
      ],
      columns: { instance: 'instance', 'Value #A': 'Findings', 'Value #B': 'Flagged executables', 'Value #C': 'Unexpected listeners' },
      links: { instance: hostLink },
      sortBy: 'Value #A',
      width: 12,
    }),
  ];
}

export const overviewDashboard = dashboard({
  uid: 'hostguard-overview',
  title: 'HostGuard / Fleet overview',
  description:
    'Where unauthorized activity is across the fleet: hosts with findings, auth failures, firing alerts, IDS alerts and Lynis audits, exporter health and baselines.',
  tags: ['hostguard', 'security'],
  instanceMulti: true,
  panels,
  links: [{ title: 'Host detail', type: 'dashboards', tags: ['hostguard'], asDropdown: true, includeVars: true, keepTime: true }],
});

import { authFindingKinds } from '../auth/findings.js';
import { auditFindingKinds } from '../audit/judge.js';
import { idsFindingKinds } from '../ids/findings.js';
import { auditMetricSpecs } from './audit.js';
import { authMetricSpecs } from './auth.js';
import { exporterMetricSpecs } from './exporter.js';
import { fleetMetricSpecs } from './fleet.js';
import { networkMetricSpecs } from './network.js';
import { processesFindingKinds, processesMetricSpecs } from './processes.js';
import { idsMetricSpecs } from './ids.js';
import { integrityMetricSpecs } from './integrity.js';
import type { MetricSpec } from './spec.js';

/** One section of docs/metrics.md: a group of metrics and, for a collector, the finding kinds it reports. */
export interface MetricGroup {
  readonly title: string;
  readonly intro: string;
  readonly specs: Readonly<Record<string, MetricSpec<string>>>;
  readonly findingKinds?: Readonly<Record<string, string>>;
}

/** Every metric the exporter can expose; docs/metrics.md is generated from this list. */
export const metricCatalog: readonly MetricGroup[] = [
  {
    title: 'Exporter and framework',
    intro: 'Always present. Per-collector series exist for every enabled collector.',
    specs: exporterMetricSpecs,
  },
  {
    title: 'Processes collector (`processes`)',
    intro:
      'Running processes judged against the policy (`processes` section), the baseline and the installed packages; a watch of new PIDs in `serve` counts short-lived processes, and a scheduled sweep looks for hidden ones.',
    specs: processesMetricSpecs,
    findingKinds: processesFindingKinds,
  },
  {
    title: 'Network (collector `network`)',
    intro:
      'Listening sockets and outgoing connections from /proc/net/{tcp,tcp6,udp,udp6}, each mapped to the processes holding it through /proc/PID/fd (like `ss -tulnp`), judged against the `listeners` and `outbound` policy sections and the learned listeners; and a scheduled hidden-port sweep (like unhide-tcp).',
    specs: networkMetricSpecs,
    findingKinds: {
      unexpected_listener:
        'a listening socket no rule or baseline entry accounts for; the subject\'s `reason` tells "not_allowed" (unknown port), "unexpected_program" (an allowed port held by another program or user) and "owner_unknown" apart',
      unexpected_outbound: 'an outgoing connection to a destination no `outbound` rule allows for that program (only with an `outbound` section)',
      hidden_port: 'a port that cannot be bound yet appears in no /proc/net table, twice in a row: a socket hidden from `ss` and netstat (found by the sweep, in `serve`)',
    },
  },
  {
    title: 'Fleet facts (collectors `processes` and `network`)',
    intro:
      'Bounded facts for the monitoring side to count across hosts (rules/hostguard-fleet.yml, docs/scale.md): the SHA-256 of each flagged executable image and of each unexpected listener\'s program. Present with the processes and network collectors; budgets in the policy\'s `fleet_facts` of each section.',
    specs: fleetMetricSpecs,
  },
  {
    title: 'Integrity (`--collector.integrity`)',
    intro:
      'File and binary hashes against the baseline and the package database. Scans run on `integrity.schedule` and once at start; a scrape serves the last scan, judged against the current baseline. Without a verified baseline only package-database and running-executable checks against packages apply. Baseline age and verification are the framework\'s `hostguard_baseline_*` metrics.',
    specs: integrityMetricSpecs,
    findingKinds: {
      content_changed: 'a watched regular file\'s SHA-256 differs from the baseline (or, when it could not be read, its size does); caught also when the mtime was put back, since ctime and size are part of the fast-path key',
      metadata_changed: 'a watched path\'s type, permission bits, owner, group or symlink target differs from the baseline; the subject\'s and label\'s `attribute` says which (type, mode, setuid, setgid, owner, group, link_target); setuid or setgid newly set is critical',
      added: 'a path in the watched set that the baseline does not have',
      removed: 'a baseline path in the watched set that is gone (paths below a directory that could not be listed are not reported)',
      running_binary_mismatch: 'a running process\'s executable image, read through /proc/PID/exe, differs from the baseline (or, for paths the baseline does not hold, from the package database); `deleted` in the subject means the file on disk was replaced or removed since the process started — a trojan swapped back, or a process still running a pre-upgrade binary',
      package_mismatch: 'a watched file whose MD5 differs from dpkg\'s /var/lib/dpkg/info/PACKAGE.md5sums (diversions applied), as `debsums` would report; needs no baseline',
    },
  },
  {
    title: 'Collector `auth`',
    intro:
      'Authentication attempts and logins from /var/log/auth.log, /var/log/secure or the journal (policy `auth.sources`). Sources are followed in `serve`; `check` only reports whether each can be read.',
    specs: authMetricSpecs,
    findingKinds: authFindingKinds,
  },
  {
    title: 'Collector `ids` (off by default)',
    intro:
      'Alerts of the intrusion detection systems named in the policy section `ids`: Suricata EVE JSON (`event_type: alert`), Snort 3 `alert_json` and Wazuh/OSSEC `alerts.json`, followed in `serve` like the auth logs (rotation, truncation and restarts, positions in --state.dir). Labels are bounded classes: tool, severity class, category class; never signature text, addresses or ports, except the opt-in top-N of signatures. Without an `ids` section the collector does nothing; `check` only reports whether each output can be read and is still written.',
    specs: idsMetricSpecs,
    findingKinds: idsFindingKinds,
  },
  {
    title: 'Collector `audit` (off by default)',
    intro:
      'The newest complete Lynis report (`audit.lynis_report`, usually /var/log/lynis-report.dat): hardening index, warnings and suggestions, its age, judged against the baseline\'s index and warnings; Lynis runs started by the exporter when `audit.run` asks. Without an `audit` section the collector does nothing.',
    specs: auditMetricSpecs,
    findingKinds: auditFindingKinds,
  },
];

/** Standard process metrics from prom-client (process_*, nodejs_*), documented by name prefix. */
export const standardMetricPrefixes = ['process_', 'nodejs_'] as const;

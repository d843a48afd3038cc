import { auditKinds } from '../audit/kinds.js';
import { authKinds } from '../auth/kinds.js';
import type { FindingKinds } from '../findings/kinds.js';
import { idsKinds } from '../ids/kinds.js';
import { integrityKinds } from '../integrity/kinds.js';
import { kernelKinds } from '../kernel/kinds.js';
import { networkKinds } from '../network/kinds.js';
import { processKinds } from '../processes/kinds.js';
import { auditMetricSpecs } from './audit.js';
import { authMetricSpecs } from './auth.js';
import { exporterMetricSpecs } from './exporter.js';
import { fleetMetricSpecs } from './fleet.js';
import { networkMetricSpecs } from './network.js';
import { processesMetricSpecs } from './processes.js';
import { containerMetricSpecs } from './containers.js';
import { idsMetricSpecs } from './ids.js';
import { integrityMetricSpecs } from './integrity.js';
import { integrityPrivilegedMetricSpecs } from './integrity-privileged.js';
import { integrityWatchMetricSpecs } from './integrity-watch.js';
import { kernelMetricSpecs } from './kernel.js';
import type { MetricSpec } from './spec.js';

/** One section of docs/metrics.md: a group of metrics and, for a collector, the finding kinds it reports. */
export interface MetricGroup {
  readonly title: string;
  readonly intro: string;
  readonly specs: Readonly<Record<string, MetricSpec<string>>>;
  /** The collector's declared finding kinds (its src/<domain>/kinds.ts). */
  readonly kinds?: FindingKinds;
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
    kinds: processKinds,
  },
  {
    title: 'Containers (collector `processes`)',
    intro:
      "Processes in containers, seen from the host: which container (cgroup path; image and names from runc's state of the container or the Docker API), where each executable lives (the image's layers, the container's writable overlayfs layer, another mount), and the findings about them (container_drift, container_package_manager, container_shell; policy section `containers`). Details: docs/collectors/processes.md#containers.",
    specs: containerMetricSpecs,
  },
  {
    title: 'Network (collector `network`)',
    intro:
      'Listening sockets and outgoing connections from /proc/net/{tcp,tcp6,udp,udp6}, each mapped to the processes holding it through /proc/PID/fd (like `ss -tulnp`), judged against the `listeners` and `outbound` policy sections and the learned listeners; and a scheduled hidden-port sweep (like unhide-tcp).',
    specs: networkMetricSpecs,
    kinds: networkKinds,
  },
  {
    title: 'Fleet facts (collectors `processes` and `network`)',
    intro:
      "Bounded facts for the monitoring side to count across hosts (rules/hostguard-fleet.yml, docs/scale.md): the SHA-256 of each flagged executable image and of each unexpected listener's program. Present with the processes and network collectors; budgets in the policy's `fleet_facts` of each section.",
    specs: fleetMetricSpecs,
  },
  {
    title: 'Integrity (`--collector.integrity`)',
    intro:
      "File and binary hashes against the baseline and the package database. Scans run on `integrity.schedule` and once at start; a scrape serves the last scan, judged against the current baseline. Without a verified baseline only package-database and running-executable checks against packages apply. Baseline age and verification are the framework's `hostguard_baseline_*` metrics.",
    specs: integrityMetricSpecs,
    kinds: integrityKinds,
  },
  {
    title: 'Integrity: real-time watch (`--collector.integrity`, `serve`)',
    intro:
      'In `serve` with `integrity.realtime` (on by default), the watched paths are watched with inotify: a change is read again and judged at once, so it is on the next scrape. The scheduled scan stays as the backstop. Under `check` the watch does not run and these series stay at 0.',
    specs: integrityWatchMetricSpecs,
  },
  {
    title: 'Integrity: privileged-file search (`--collector.integrity`)',
    intro:
      'The search of the local file systems for setuid, setgid and file-capability files (`integrity.privileged_files`, hourly and at start in `serve`; in `check`, the last search while within its interval). Its findings are the `privileged_file_added` and `privileged_file_changed` kinds above, in `hostguard_integrity_mismatch`.',
    specs: integrityPrivilegedMetricSpecs,
  },
  {
    title: 'Kernel (collector `kernel`)',
    intro:
      'The running kernel against the baseline: modules loaded since (/proc/modules), module-related taint flags gained since (/proc/sys/kernel/tainted), and the security sysctls the policy lists (`kernel.sysctls`) changed since. Read at every collection. Without a baseline nothing is judged.',
    specs: kernelMetricSpecs,
    kinds: kernelKinds,
  },
  {
    title: 'Collector `auth`',
    intro:
      'Authentication attempts and logins from /var/log/auth.log, /var/log/secure or the journal (policy `auth.sources`). Sources are followed in `serve`; `check` only reports whether each can be read.',
    specs: authMetricSpecs,
    kinds: authKinds,
  },
  {
    title: 'Collector `ids`',
    intro:
      'Alerts of the intrusion detection systems named in the policy section `ids`: Suricata EVE JSON (`event_type: alert`), Snort 3 `alert_json` and Wazuh/OSSEC `alerts.json`, followed in `serve` like the auth logs (rotation, truncation and restarts, positions in --state.dir). Labels are bounded classes: tool, severity class, category class; never signature text, addresses or ports, except the opt-in top-N of signatures. Without an `ids` section the collector (on by default) does nothing and exposes none of these series; `check` only reports whether each output can be read and is still written.',
    specs: idsMetricSpecs,
    kinds: idsKinds,
  },
  {
    title: 'Collector `audit`',
    intro:
      "The newest complete Lynis report (`audit.lynis_report`, usually /var/log/lynis-report.dat): hardening index, warnings and suggestions, its age, judged against the baseline's index and warnings; Lynis runs started by the exporter when `audit.run` asks. Without an `audit` section the collector (on by default) does nothing and exposes none of these series.",
    specs: auditMetricSpecs,
    kinds: auditKinds,
  },
];

/** Standard process metrics from prom-client (process_*, nodejs_*), documented by name prefix. */
export const standardMetricPrefixes = ['process_', 'nodejs_'] as const;

import { authFindingKinds } from '../auth/findings.js';
import { authMetricSpecs } from './auth.js';
import { exporterMetricSpecs } from './exporter.js';
import { networkMetricSpecs } from './network.js';
import { processesFindingKinds, processesMetricSpecs } from './processes.js';
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
    title: 'Collector `auth`',
    intro:
      'Authentication attempts and logins from /var/log/auth.log, /var/log/secure or the journal (policy `auth.sources`). Sources are followed in `serve`; `check` only reports whether each can be read.',
    specs: authMetricSpecs,
    findingKinds: authFindingKinds,
  },
];

/** Standard process metrics from prom-client (process_*, nodejs_*), documented by name prefix. */
export const standardMetricPrefixes = ['process_', 'nodejs_'] as const;

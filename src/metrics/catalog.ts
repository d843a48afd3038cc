import { authFindingKinds } from '../auth/findings.js';
import { authMetricSpecs } from './auth.js';
import { exporterMetricSpecs } from './exporter.js';
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
    title: 'Collector `auth`',
    intro:
      'Authentication attempts and logins from /var/log/auth.log, /var/log/secure or the journal (policy `auth.sources`). Sources are followed in `serve`; `check` only reports whether each can be read.',
    specs: authMetricSpecs,
    findingKinds: authFindingKinds,
  },
];

/** Standard process metrics from prom-client (process_*, nodejs_*), documented by name prefix. */
export const standardMetricPrefixes = ['process_', 'nodejs_'] as const;

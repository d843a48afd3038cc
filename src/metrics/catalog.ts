import { exporterMetricSpecs } from './exporter.js';
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
];

/** Standard process metrics from prom-client (process_*, nodejs_*), documented by name prefix. */
export const standardMetricPrefixes = ['process_', 'nodejs_'] as const;

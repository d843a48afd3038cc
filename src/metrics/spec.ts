import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every metric the exporter exposes is declared once as a spec: name, type, help, and for each
 * label the bounded set of values it can take. The specs create the prom-client objects and
 * generate docs/metrics.md, the contract that rules/ and grafana/ are written against.
 */
export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface MetricSpec<L extends string = string> {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** Label name → what values it takes (documentation; every set must be bounded). */
  readonly labels: Readonly<Record<L, string>>;
  readonly buckets?: readonly number[];
  /** Extra sentence for docs/metrics.md: when the series exists, how to read it. */
  readonly notes?: string;
}

export function metricSpec<L extends string = never>(spec: MetricSpec<L>): MetricSpec<L> {
  if (!/^hostguard_[a-z0-9_]+$/.test(spec.name)) throw new Error(`metric name ${spec.name} lacks the hostguard_ prefix`);
  if (spec.type === 'counter' && !spec.name.endsWith('_total')) throw new Error(`counter ${spec.name} must end in _total`);
  return spec;
}

function labelNames<L extends string>(spec: MetricSpec<L>): L[] {
  return Object.keys(spec.labels) as L[];
}

export function registerGauge<L extends string>(registry: Registry, spec: MetricSpec<L>): Gauge<L> {
  assertType(spec, 'gauge');
  return new Gauge<L>({ name: spec.name, help: spec.help, labelNames: labelNames(spec), registers: [registry] });
}

export function registerCounter<L extends string>(registry: Registry, spec: MetricSpec<L>): Counter<L> {
  assertType(spec, 'counter');
  return new Counter<L>({ name: spec.name, help: spec.help, labelNames: labelNames(spec), registers: [registry] });
}

export function registerHistogram<L extends string>(registry: Registry, spec: MetricSpec<L>): Histogram<L> {
  assertType(spec, 'histogram');
  return new Histogram<L>({
    name: spec.name,
    help: spec.help,
    labelNames: labelNames(spec),
    buckets: [...(spec.buckets ?? [])],
    registers: [registry],
  });
}

function assertType(spec: MetricSpec<string>, type: MetricType): void {
  if (spec.type !== type) throw new Error(`metric ${spec.name} is a ${spec.type}, not a ${type}`);
}

/** Label values come from the host (paths, names): keep them printable and bounded in length. */
export function labelValue(value: string, maxLength = 256): string {
  return value.length <= maxLength ? value : value.slice(0, maxLength - 1) + '…';
}

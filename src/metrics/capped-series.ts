import type { Gauge } from 'prom-client';
import { labelValue } from './spec.js';
import { compareText } from '../text/compare.js';

export interface SeriesRow<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

/**
 * A per-finding gauge (one series per unknown executable, listener, changed file) limited to
 * `cap` series. Rows with equal labels are summed; the largest values are kept; what the cap
 * left out is reported in hostguard_finding_series_dropped{metric}.
 */
export class CappedSeries<L extends string> {
  constructor(
    private readonly gauge: Gauge<L>,
    private readonly metricName: string,
    private readonly dropped: Gauge<'metric'>,
    private readonly cap: () => number,
  ) {
    this.dropped.set({ metric: metricName }, 0);
  }

  replace(rows: Iterable<SeriesRow<L>>): void {
    const merged = new Map<string, { labels: Record<L, string>; value: number }>();
    for (const row of rows) {
      const labels = boundLabels(row.labels);
      const key = JSON.stringify(Object.entries(labels).sort());
      const existing = merged.get(key);
      if (existing) existing.value += row.value;
      else merged.set(key, { labels, value: row.value });
    }
    const ordered = [...merged.entries()]
      .sort(([keyA, a], [keyB, b]) => b.value - a.value || compareText(keyA, keyB))
      .map(([, row]) => row);
    const limit = Math.max(0, this.cap());
    this.gauge.reset();
    for (const row of ordered.slice(0, limit)) this.gauge.set(row.labels as Partial<Record<L, string>>, row.value);
    this.dropped.set({ metric: this.metricName }, Math.max(0, ordered.length - limit));
  }
}

function boundLabels<L extends string>(labels: Readonly<Record<L, string>>): Record<L, string> {
  const bounded = {} as Record<L, string>;
  for (const key of Object.keys(labels) as L[]) bounded[key] = labelValue(labels[key]);
  return bounded;
}

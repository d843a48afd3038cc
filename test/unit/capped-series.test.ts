import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CappedSeries } from '../../src/metrics/capped-series.js';

async function values(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  return (await metric!.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

describe('capped per-finding series', () => {
  it('keeps the largest rows up to the cap, merges equal labels and reports what it dropped', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'hostguard_test_unknown', help: 'h', labelNames: ['exe'], registers: [registry] });
    const dropped = new Gauge({ name: 'hostguard_finding_series_dropped', help: 'h', labelNames: ['metric'], registers: [registry] });
    let cap = 2;
    const series = new CappedSeries(gauge, 'hostguard_test_unknown', dropped, () => cap);
    series.replace([
      { labels: { exe: '/tmp/a' }, value: 1 },
      { labels: { exe: '/tmp/b' }, value: 1 },
      { labels: { exe: '/tmp/a' }, value: 2 },
      { labels: { exe: '/tmp/c' }, value: 1 },
    ]);
    expect(await values(registry, 'hostguard_test_unknown')).toEqual([
      { labels: { exe: '/tmp/a' }, value: 3 },
      { labels: { exe: '/tmp/b' }, value: 1 },
    ]);
    expect(await values(registry, 'hostguard_finding_series_dropped')).toEqual([
      { labels: { metric: 'hostguard_test_unknown' }, value: 1 },
    ]);

    cap = 100;
    series.replace([{ labels: { exe: '/tmp/d' }, value: 1 }]);
    expect(await values(registry, 'hostguard_test_unknown')).toEqual([{ labels: { exe: '/tmp/d' }, value: 1 }]);
    expect(await values(registry, 'hostguard_finding_series_dropped')).toEqual([
      { labels: { metric: 'hostguard_test_unknown' }, value: 0 },
    ]);
  });

  it('bounds the length of a label value taken from the host', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'hostguard_test_files', help: 'h', labelNames: ['path'], registers: [registry] });
    const dropped = new Gauge({ name: 'hostguard_finding_series_dropped', help: 'h', labelNames: ['metric'], registers: [registry] });
    new CappedSeries(gauge, 'hostguard_test_files', dropped, () => 10).replace([{ labels: { path: '/x'.repeat(5000) }, value: 1 }]);
    const [row] = await values(registry, 'hostguard_test_files');
    expect(String(row?.labels.path).length).toBe(256);
  });
});

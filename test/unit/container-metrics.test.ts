import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ContainerMetrics } from '../../src/collectors/container-metrics.js';
import type { CollectorEnv } from '../../src/collectors/collector.js';
import type { ContainerIdentity } from '../../src/containers/identity.js';
import { CappedSeries } from '../../src/metrics/capped-series.js';
import { registerGauge } from '../../src/metrics/spec.js';
import type { ContainerFacts } from '../../src/processes/container-facts.js';
import { VerdictSummary } from '../../src/processes/verdict-summary.js';
import { sampleValue } from '../helpers/exposition.js';

/** The two things ContainerMetrics takes from a collector's environment: a registry and capped series. */
function metricsOn(registry: Registry): ContainerMetrics {
  const dropped = new Gauge({ name: 'dropped', help: 'dropped', labelNames: ['metric'], registers: [registry] });
  const env: Pick<CollectorEnv, 'registry' | 'cappedSeries'> = {
    registry,
    cappedSeries: (spec) => new CappedSeries(registerGauge(registry, spec), spec.name, dropped, () => 100),
  };
  return new ContainerMetrics(env as CollectorEnv);
}

const identity = (id: string | undefined): ContainerIdentity => ({
  runtime: 'cri-o',
  id,
  podUid: undefined,
  image: 'registry.example.com/shop/web:1.4',
  name: 'web',
  podNamespace: undefined,
  podName: undefined,
  imageSource: 'runtime_state',
});

const facts = (i: ContainerIdentity): ContainerFacts => ({ identity: i, executableLayer: 'image', standardInput: 'other' });

describe('container metrics', () => {
  it('count a container once by its id, however many identity objects its processes hold; one without an id by its object', async () => {
    const registry = new Registry();
    const metrics = metricsOn(registry);
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    // The processes of container a hold two identity objects: its namespace record was read again
    // while some kept the facts of the old one.
    const noId = identity(undefined);
    const seen = new Map<number, ContainerFacts>([
      [1, facts(identity(a))],
      [2, facts(identity(a))],
      [3, facts(identity(b))],
      [4, facts(noId)],
      [5, facts(noId)],
      [6, facts(identity(undefined))],
    ]);
    metrics.record(seen, VerdictSummary.of([]));
    const text = await registry.metrics();
    expect(sampleValue(text, 'hostguard_containers', { runtime: 'cri-o', image_source: 'runtime_state' })).toBe(4);
    expect(sampleValue(text, 'hostguard_container_processes', { layer: 'image' })).toBe(6);
  });
});

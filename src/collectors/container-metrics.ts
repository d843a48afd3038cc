import type { CollectorEnv } from './collector.js';
import { containerMetricSpecs as specs } from '../metrics/containers.js';
import { registerGauge } from '../metrics/spec.js';
import { containerRuntimes, imageSources, type ContainerIdentity } from '../containers/identity.js';
import { executableLayers, type ContainerFacts } from '../processes/container-facts.js';
import type { VerdictSummary } from '../processes/verdict-summary.js';

/** Output: the metrics of processes in containers, from the observed facts and the verdicts. */
export class ContainerMetrics {
  private readonly containers;
  private readonly processes;
  private readonly flagged;

  constructor(env: CollectorEnv) {
    this.containers = registerGauge(env.registry, specs.containers);
    this.processes = registerGauge(env.registry, specs.containerProcesses);
    this.flagged = env.cappedSeries(specs.flagged);
    for (const runtime of containerRuntimes) for (const source of imageSources) this.containers.set({ runtime, image_source: source }, 0);
    for (const layer of executableLayers) this.processes.set({ layer }, 0);
  }

  record(facts: ReadonlyMap<number, ContainerFacts> | undefined, summary: VerdictSummary): void {
    const byLayer = new Map(executableLayers.map((layer) => [layer, 0]));
    // A container by its runtime's id; one without an id by its identity object (one per namespace
    // record, container-observe.ts). By id, not by object: a namespace record read again while some
    // of its processes still hold the facts of the old one gives two objects for one container.
    const containers = new Map<unknown, ContainerIdentity>();
    facts?.forEach((f) => {
      byLayer.set(f.executableLayer, byLayer.get(f.executableLayer)! + 1);
      const key = f.identity.id === undefined ? f.identity : `${f.identity.runtime}\0${f.identity.id}`;
      if (!containers.has(key)) containers.set(key, f.identity);
    });
    for (const [layer, count] of byLayer) this.processes.set({ layer }, count);
    const counts = new Map<string, number>();
    for (const identity of containers.values()) {
      const key = `${identity.runtime}\0${identity.imageSource}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const runtime of containerRuntimes)
      for (const source of imageSources) this.containers.set({ runtime, image_source: source }, counts.get(`${runtime}\0${source}`) ?? 0);
    this.flagged.replace(summary.containerRows);
  }
}

import type { Registry } from 'prom-client';
import type { BaselineKeeper } from '../baseline/keeper.js';
import { entryCount } from '../baseline/baseline.js';
import type { PolicyStore } from '../config/policy-store.js';
import { CounterSync } from '../metrics/counter-sync.js';
import { exporterMetricSpecs as specs } from '../metrics/exporter.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import { hasCapability, ownCapabilitySets, watchedCapabilities, type WatchedCapability } from '../procfs/capabilities.js';
import { stuckReadKinds, type StuckReads } from '../procfs/stuck-reads.js';
import { writeHealth } from '../state/atomic-write.js';
import type { BuildInfo } from '../version.js';
import { collectorFailures, type CollectionResult } from './collection.js';
import type { Collector } from './collector.js';

/** The framework's own metrics, set from the state of a collection, the policy and the baseline. */
export class FrameworkMetrics {
  private readonly duration;
  private readonly success;
  private readonly errors;
  private readonly collections;
  private readonly findings;
  readonly findingSeriesDropped;
  private readonly reloadOk;
  private readonly reloadAt;
  private readonly configInfo;
  private readonly baselinePresent;
  private readonly baselineVerified;
  private readonly baselineSigned;
  private readonly baselineTofu;
  private readonly baselineAge;
  private readonly baselineChange;
  private readonly baselineEntries;
  private readonly stateWriteFailing;
  private readonly stateWriteFailures;
  private readonly stuckReads;
  private readonly stuckReadsTotal;
  private readonly counters = new CounterSync();

  constructor(
    private readonly registry: Registry,
    build: BuildInfo,
  ) {
    registerGauge(registry, specs.buildInfo).set({ version: build.version, revision: build.revision, nodejs_version: process.version }, 1);
    this.duration = registerGauge(registry, specs.collectorDuration);
    this.success = registerGauge(registry, specs.collectorSuccess);
    this.errors = registerCounter(registry, specs.collectorErrors);
    this.collections = registerCounter(registry, specs.collections);
    this.findings = registerGauge(registry, specs.findings);
    this.findingSeriesDropped = registerGauge(registry, specs.findingSeriesDropped);
    this.reloadOk = registerGauge(registry, specs.configReloadSuccessful);
    this.reloadAt = registerGauge(registry, specs.configReloadTimestamp);
    this.configInfo = registerGauge(registry, specs.configInfo);
    this.baselinePresent = registerGauge(registry, specs.baselinePresent);
    this.baselineVerified = registerGauge(registry, specs.baselineVerified);
    this.baselineSigned = registerGauge(registry, specs.baselineSigned);
    this.baselineTofu = registerGauge(registry, specs.baselineTrustOnFirstUse);
    this.baselineAge = registerGauge(registry, specs.baselineAge);
    this.baselineChange = registerGauge(registry, specs.baselineLastChange);
    this.baselineEntries = registerGauge(registry, specs.baselineEntries);
    this.stateWriteFailing = registerGauge(registry, specs.stateWriteFailing);
    this.stateWriteFailures = registerCounter(registry, specs.stateWriteFailures);
    this.stuckReads = registerGauge(registry, specs.stuckReads);
    this.stuckReadsTotal = registerCounter(registry, specs.stuckReadsTotal);
    for (const kind of stuckReadKinds) {
      this.stuckReads.set({ kind }, 0);
      this.stuckReadsTotal.inc({ kind }, 0);
    }
    registerGauge(registry, specs.runningAsRoot).set(process.geteuid?.() === 0 ? 1 : 0);
    const effective = registerGauge(registry, specs.capability);
    const bounding = registerGauge(registry, specs.capabilityBounding);
    const sets = ownCapabilitySets();
    for (const name of Object.keys(watchedCapabilities) as WatchedCapability[]) {
      effective.set({ capability: name }, hasCapability(sets.effective, name) ? 1 : 0);
      bounding.set({ capability: name }, hasCapability(sets.bounding, name) ? 1 : 0);
    }
  }

  recordCollection(collectors: readonly Collector[], result: CollectionResult): void {
    this.collections.inc();
    this.findings.reset();
    for (const collector of collectors) {
      for (const kind of collector.findingKinds) this.findings.set({ collector: collector.name, kind }, 0);
    }
    for (const finding of result.findings) this.findings.inc({ collector: finding.collector, kind: finding.kind });
    for (const outcome of result.outcomes) {
      this.duration.set({ collector: outcome.name }, outcome.durationSeconds);
      this.success.set({ collector: outcome.name }, outcome.success ? 1 : 0);
      for (const reason of collectorFailures) this.errors.inc({ collector: outcome.name, reason }, outcome.failure === reason ? 1 : 0);
    }
  }

  recordStateWrites(): void {
    for (const [file, h] of writeHealth()) {
      this.stateWriteFailing.set({ file }, h.failing ? 1 : 0);
      this.counters.sync(this.stateWriteFailures, { file }, h.failures);
    }
  }

  recordStuckReads(stuck: StuckReads): void {
    for (const kind of stuckReadKinds) {
      this.stuckReads.set({ kind }, stuck.count(kind));
      this.counters.sync(this.stuckReadsTotal, { kind }, stuck.total(kind));
    }
  }

  recordPolicy(store: PolicyStore): void {
    this.reloadOk.set(store.lastReloadSuccessful ? 1 : 0);
    this.reloadAt.set(Math.floor(store.lastSuccessfulLoad.getTime() / 1000));
    this.configInfo.reset();
    this.configInfo.set({ source: store.current.source, sha256: store.current.sha256.slice(0, 12) }, 1);
  }

  recordBaseline(keeper: BaselineKeeper, now = new Date()): void {
    const state = keeper.current;
    const body = keeper.body;
    this.baselinePresent.set(body ? 1 : 0);
    this.baselineVerified.set(state.status === 'verified' ? 1 : 0);
    this.baselineSigned.set(state.status === 'verified' && state.signed ? 1 : 0);
    this.baselineTofu.set(body?.origin === 'trust-on-first-use' ? 1 : 0);
    this.baselineChange.set(keeper.lastChange.getTime() / 1000);
    this.baselineEntries.reset();
    // Without a baseline there is no age: the series is absent rather than a misleading 0.
    const ageRegistered = this.registry.getSingleMetric(specs.baselineAge.name) !== undefined;
    if (!body && ageRegistered) this.registry.removeSingleMetric(specs.baselineAge.name);
    if (body && !ageRegistered) this.registry.registerMetric(this.baselineAge);
    if (body) {
      this.baselineAge.set(Math.max(0, (now.getTime() - Date.parse(body.updated_at)) / 1000));
      for (const [section, count] of Object.entries(entryCount(body))) this.baselineEntries.set({ section }, count);
    }
  }
}

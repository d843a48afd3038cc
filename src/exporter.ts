import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BaselineEntries, BaselineOrigin, BaselineBody } from './baseline/baseline.js';
import { BaselineKeeper } from './baseline/keeper.js';
import { BaselineStore } from './baseline/store.js';
import { CollectorRunner, LearningError, LearningTimeoutError, type CollectionResult } from './collectors/collection.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv } from './collectors/collector.js';
import type { HostPaths } from './host-paths.js';
import { FrameworkMetrics } from './collectors/framework-metrics.js';
import { PolicyStore } from './config/policy-store.js';
import { unreadSections } from './config/unread-sections.js';
import { findingKey, type Finding } from './findings/finding.js';
import { HostReads, stallDeadlineMs } from './isolated/host-reads.js';
import type { Logger } from './log/logger.js';
import { CappedSeries } from './metrics/capped-series.js';
import { registerGauge, type MetricSpec } from './metrics/spec.js';
import type { BuildInfo } from './version.js';

/**
 * --collector.timeout's default: Prometheus' default scrape timeout. A healthy collection takes
 * milliseconds (docs/benchmarks.md), so only a collector that is stuck comes near it.
 */
export const defaultCollectorTimeoutMs = 10_000;

/**
 * --baseline.timeout's default. Learning rehashes every watched file: the default set takes about
 * a second, and 30 minutes hold about 2.7 TB at the measured 1.5 GB/s (docs/benchmarks.md), or
 * 180 GB from a cold disk at 100 MB/s. So a healthy host never reaches it, and a learner stuck on a
 * dead mount ends with an error instead of never.
 */
export const defaultBaselineTimeoutMs = 30 * 60_000;

export interface ExporterOptions {
  readonly paths: HostPaths;
  readonly policyFile: string | undefined;
  readonly collectors: readonly CollectorDefinition[];
  readonly maxFindingSeries: number;
  readonly baselineKey?: Buffer;
  /** --collector.timeout: how long one collector may take in a collection; defaultCollectorTimeoutMs when absent. */
  readonly collectorTimeoutMs?: number;
  /** --baseline.timeout: how long one collector may take to learn its section; defaultBaselineTimeoutMs when absent. */
  readonly baselineTimeoutMs?: number;
  /** Collectors that do not run, with why in flag terms: sections of the policy for them are not read. */
  readonly disabledCollectors?: ReadonlyMap<string, string>;
  readonly log: Logger;
  readonly build: BuildInfo;
}

/** One collection as every output sees it: findings, per-collector outcome, and the exposition text. */
export interface Snapshot {
  readonly result: CollectionResult;
  readonly exposition: string;
  /** When each current finding was first seen by this process. */
  readonly firstSeen: ReadonlyMap<string, Date>;
}

/**
 * The exporter's core, shared by `serve`, `check` and `baseline`: the policy, the baseline, the
 * enabled collectors and the metrics registry. Collections are coalesced: callers that arrive
 * while one runs share its result, so concurrent scrapes never pile up.
 */
export class Exporter {
  readonly registry = new Registry();
  readonly policy: PolicyStore;
  readonly baseline: BaselineKeeper;
  readonly collectors: readonly Collector[];
  readonly hostReads: HostReads;
  private readonly framework: FrameworkMetrics;
  private readonly runner: CollectorRunner;
  private inFlight: Promise<Snapshot> | undefined;
  private readonly firstSeen = new Map<string, Date>();
  private started = false;

  /** Throws PolicyError for a bad policy file: nothing starts on a policy that cannot be read. */
  constructor(private readonly options: ExporterOptions) {
    this.policy = new PolicyStore(options.policyFile);
    this.baseline = new BaselineKeeper(new BaselineStore(options.paths.stateDir, options.baselineKey), options.log);
    this.framework = new FrameworkMetrics(this.registry, options.build);
    this.runner = new CollectorRunner(
      { ms: options.collectorTimeoutMs ?? defaultCollectorTimeoutMs, flag: '--collector.timeout' },
      { ms: options.baselineTimeoutMs ?? defaultBaselineTimeoutMs, flag: '--baseline.timeout' },
      options.log,
    );
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges *_total, which Prometheus' linter rejects; the process_* set stays.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    this.hostReads = new HostReads(
      options.paths.procfs,
      stallDeadlineMs(options.collectorTimeoutMs ?? defaultCollectorTimeoutMs),
      options.log,
    );
    const env: CollectorEnv = {
      registry: this.registry,
      paths: options.paths,
      log: options.log,
      hostReads: this.hostReads,
      cappedSeries: <L extends string>(spec: MetricSpec<L>, cap?: () => number) =>
        new CappedSeries<L>(
          registerGauge(this.registry, spec),
          spec.name,
          this.framework.findingSeriesDropped,
          cap ?? (() => options.maxFindingSeries),
        ),
      acceptIntoBaseline: (basedOn, sections) => this.baseline.acceptChanges(basedOn, sections),
    };
    this.collectors = options.collectors.map((d) => d.create({ ...env, log: options.log.with({ collector: d.name }) }));
    this.policy.onChange(() => this.tellCollectorsOfPolicy());
  }

  /**
   * Every collector hears of a new policy, even when one before it throws; a failure is logged
   * with the collector's name and thrown afterwards so the reload reports failure.
   */
  private tellCollectorsOfPolicy(): void {
    const ctx = this.context();
    const failed: string[] = [];
    for (const c of this.collectors) {
      try {
        c.policyChanged?.(ctx);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.options.log.error('collector could not apply the policy', { collector: c.name, err: message });
        failed.push(`${c.name}: ${message}`);
      }
    }
    if (failed.length > 0) throw new Error(`collector${failed.length > 1 ? 's' : ''} could not apply it (${failed.join(', ')})`);
  }

  /** SIGHUP and POST /-/reload: never throws; a policy that fails to load or apply leaves the running one. */
  reloadPolicy(): { ok: boolean; message: string } {
    const outcome = this.policy.reload();
    const log = this.options.log;
    if (outcome.ok) {
      log.info('policy reloaded', { policy: this.policy.current.origin, changed: outcome.changed });
      this.reportUnreadSections();
      return { ok: true, message: outcome.changed ? 'policy reloaded' : 'policy reloaded (unchanged)' };
    }
    log.error('policy reload failed; keeping the running policy', { err: outcome.message });
    return { ok: false, message: `reload failed, running policy kept: ${outcome.message}` };
  }

  /** Say which sections of the policy file no running collector reads: at start and after every reload. */
  reportUnreadSections(): void {
    for (const { section, reason } of unreadSections(this.policy.current.sections, this.options.disabledCollectors ?? new Map())) {
      this.options.log.warn('policy section not read', { section, reason });
    }
  }

  context(): CollectorContext {
    this.baseline.refresh();
    return {
      policy: this.policy.current.policy,
      baseline: this.baseline.trustedSections,
      paths: this.options.paths,
      log: this.options.log,
    };
  }

  /** Run (or join) a collection and render the exposition from it. */
  snapshot(): Promise<Snapshot> {
    this.inFlight ??= this.collectOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async collectOnce(): Promise<Snapshot> {
    const ctx = this.context();
    const result = await this.runner.run(this.collectors, ctx);
    this.trackFirstSeen(result.findings, result.at);
    this.framework.recordCollection(this.collectors, result);
    this.framework.recordPolicy(this.policy);
    this.framework.recordBaseline(this.baseline, result.at);
    this.framework.recordStateWrites();
    this.framework.recordStuckReads(this.hostReads.stuck);
    const exposition = await this.registry.metrics();
    return { result, exposition, firstSeen: new Map(this.firstSeen) };
  }

  private trackFirstSeen(findings: readonly Finding[], at: Date): void {
    const current = new Set(findings.map(findingKey));
    for (const key of this.firstSeen.keys()) if (!current.has(key)) this.firstSeen.delete(key);
    for (const key of current) if (!this.firstSeen.has(key)) this.firstSeen.set(key, at);
  }

  /**
   * Observe the current host through every enabled collector that keeps a baseline section, each
   * under --baseline.timeout. A collector past it throws LearningTimeoutError at once, so nothing
   * learned reaches a write; unless `onTimeout` is given: then that collector's section is left
   * out, `onTimeout` hears of it, and the others still learn.
   */
  async learnSections(onTimeout?: (timeout: LearningTimeoutError) => void): Promise<Record<string, BaselineEntries>> {
    const ctx = this.context();
    const sections: Record<string, BaselineEntries> = {};
    for (const collector of this.collectors) {
      try {
        const entries = await this.runner.learn(collector, ctx);
        if (entries) Object.assign(sections, { [collector.name]: entries }, collector.learnedAlongside?.());
      } catch (error) {
        if (!(error instanceof LearningTimeoutError)) throw new LearningError(collector.name, error);
        if (!onTimeout) throw error;
        onTimeout(error);
      }
    }
    return sections;
  }

  /**
   * Accept the current host as known-good. Sections of collectors that are disabled now are kept
   * from the previous baseline, so `--no-collector.integrity baseline update` leaves hashes alone.
   * A previous baseline that does not verify is replaced whole, so `baseline update` refuses one.
   * `onTimeout` as for learnSections: without it, a collector past --baseline.timeout writes nothing.
   */
  async acceptCurrentState(origin: BaselineOrigin, onTimeout?: (timeout: LearningTimeoutError) => void): Promise<BaselineBody> {
    const learned = await this.learnSections(onTimeout);
    const previous = this.baseline.current.status === 'verified' ? this.baseline.current.body.sections : {};
    return this.baseline.write({ ...previous, ...learned }, origin);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const c of this.collectors) await c.start?.(() => this.context());
  }

  async stop(): Promise<void> {
    for (const c of this.collectors) {
      // A run past its deadline may be stuck in a read that never returns (a dead mount), and its
      // stop() with it: such a collector is told to stop but not waited for.
      const stopping = Promise.resolve()
        .then(() => c.stop?.())
        .catch((error: unknown) => this.options.log.warn('collector did not stop cleanly', { collector: c.name, err: error }));
      if (!this.runner.busy(c)) await stopping;
    }
    this.hostReads.close();
  }
}

import type { Registry } from 'prom-client';
import type { Finding } from '../findings/finding.js';
import type { Logger } from '../log/logger.js';
import type { Policy } from '../config/policy-schema.js';
import type { BaselineSections, BaselineEntries } from '../baseline/baseline.js';
import type { MetricSpec } from '../metrics/spec.js';
import type { CappedSeries } from '../metrics/capped-series.js';
import type { HostPaths } from '../host-paths.js';
import type { HostReads } from '../isolated/host-reads.js';
import type { AcceptOutcome } from '../baseline/keeper.js';

/** What a collector sees of the world at the moment it runs; rebuilt for every collection. */
export interface CollectorContext {
  readonly policy: Policy;
  /** The verified baseline, or undefined when there is none or it failed verification. */
  readonly baseline: BaselineSections | undefined;
  readonly paths: HostPaths;
  readonly log: Logger;
}

/** What a collector is built with: where to register its metrics, and how to log. */
export interface CollectorEnv {
  readonly registry: Registry;
  readonly log: Logger;
  readonly paths: HostPaths;
  /** A per-finding gauge limited by --metrics.max-finding-series, or by `cap` (read at every update) when given. */
  cappedSeries<L extends string>(spec: MetricSpec<L>, cap?: () => number): CappedSeries<L>;
  /** Reads that can block in the kernel go through here (per-process files, stalled file systems). */
  readonly hostReads: HostReads;
  /**
   * Write changes the collector accepts by itself into the verified baseline whose sections
   * (`basedOn`, as the context gave them) it judged against: whole sections, replaced.
   */
  acceptIntoBaseline(basedOn: BaselineSections, sections: Readonly<Record<string, BaselineEntries>>): AcceptOutcome;
}

export interface CollectorRun {
  readonly findings: readonly Finding[];
}

export interface Collector {
  readonly name: string;
  /** Every kind of finding this collector can report: hostguard_findings shows each, 0 when none. */
  readonly findingKinds: readonly string[];
  /** One collection: observe, judge against policy and baseline, set this collector's metrics. */
  collect(ctx: CollectorContext): Promise<CollectorRun>;
  /**
   * What `baseline init` and `update` record for this collector, keyed by subject. `signal` is aborted
   * when learning passes --baseline.timeout: its result will be dropped, so the collector may stop
   * early, and it ends at once anything it draws on the terminal (the error follows on its own line).
   */
  learn?(ctx: CollectorContext, signal?: AbortSignal): Promise<BaselineEntries>;
  /** Sections under other names that the last learn() recorded as well (the integrity collector's `packages`). */
  learnedAlongside?(): Readonly<Record<string, BaselineEntries>>;
  /** Start background work (watchers, schedules, log tails) in `serve`; gets fresh context on each call. */
  start?(context: () => CollectorContext): Promise<void>;
  /**
   * Called after a policy reload, for background work that depends on the policy. Throwing refuses
   * the reload: every collector is then told of the running policy again.
   */
  policyChanged?(ctx: CollectorContext): void;
  stop?(): Promise<void>;
}

export type CollectorFactory = (env: CollectorEnv) => Collector;

export interface CollectorDefinition {
  readonly name: string;
  readonly description: string;
  readonly defaultEnabled: boolean;
  readonly create: CollectorFactory;
}

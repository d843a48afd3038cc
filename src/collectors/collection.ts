import { performance } from 'node:perf_hooks';
import type { BaselineEntries } from '../baseline/baseline.js';
import { formatDurationMs } from '../config/duration.js';
import type { Finding } from '../findings/finding.js';
import type { Logger } from '../log/logger.js';
import type { Collector, CollectorContext } from './collector.js';

/** Why a collector failed: it threw, or it passed --collector.timeout (or is still busy with a run that passed a deadline). */
export const collectorFailures = ['error', 'timeout'] as const;
export type CollectorFailure = (typeof collectorFailures)[number];

export interface CollectorOutcome {
  readonly name: string;
  readonly success: boolean;
  readonly durationSeconds: number;
  readonly findings: readonly Finding[];
  readonly error?: string;
  readonly failure?: CollectorFailure;
}

export interface CollectionResult {
  readonly at: Date;
  readonly outcomes: readonly CollectorOutcome[];
  readonly findings: readonly Finding[];
}

const timedOut = Symbol('timed out');

/** A deadline and the flag that sets it, named in the log lines and errors of runs that pass it. */
export interface Deadline {
  readonly ms: number;
  readonly flag: string;
}

/** A collector's learn() gave no result within --baseline.timeout; the message names the collector and the deadline. */
export class LearningTimeoutError extends Error {
  override name = 'LearningTimeoutError';
  constructor(
    readonly collector: string,
    reason: string,
  ) {
    super(`collector ${collector} did not finish learning: ${reason}`);
  }
}

/** A collector's learn() failed (not a timeout): the message names the collector; `cause` is the error. */
export class LearningError extends Error {
  override name = 'LearningError';
  constructor(
    readonly collector: string,
    cause: unknown,
  ) {
    super(`collector ${collector} could not learn: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

type Raced<T> =
  { readonly settled: true; readonly value: T } | { readonly settled: false; readonly reason: string; readonly busySeconds?: number };

/**
 * Runs collectors under a deadline: every collector once per collection (--collector.timeout), and
 * one collector's learning (--baseline.timeout). A collector that throws or passes the deadline in a
 * collection is logged with its name and reported as failed; the others still run and their
 * findings are served. A run past its deadline, collection or learning, is left pending, never
 * started twice: until it settles, later collections report that collector as still busy (a
 * timeout) at once.
 */
export class CollectorRunner {
  /** Collectors whose run passed its deadline and has not settled yet: when that run started, and which deadline it passed. */
  private readonly overdue = new Map<Collector, { started: number; deadline: Deadline }>();

  constructor(
    private readonly collection: Deadline,
    private readonly learning: Deadline,
    private readonly log: Logger,
  ) {}

  async run(collectors: readonly Collector[], ctx: CollectorContext): Promise<CollectionResult> {
    const at = new Date();
    const outcomes: CollectorOutcome[] = [];
    // One after another: collectors do mostly synchronous /proc and file work, so running them
    // side by side would only blur each one's duration.
    for (const collector of collectors) outcomes.push(await this.runOne(collector, ctx));
    return { at, outcomes, findings: outcomes.flatMap((o) => o.findings) };
  }

  /**
   * One collector's learn() under --baseline.timeout, undefined for a collector that keeps no
   * baseline section. A throw is passed on; a timeout is a LearningTimeoutError.
   */
  async learn(collector: Collector, ctx: CollectorContext): Promise<BaselineEntries | undefined> {
    const learn = collector.learn?.bind(collector);
    if (!learn) return undefined;
    const passed = new AbortController();
    const raced = await this.race(
      collector,
      this.learning,
      () => learn(ctx, passed.signal),
      () => passed.abort(),
    );
    if (!raced.settled) throw new LearningTimeoutError(collector.name, raced.reason);
    return raced.value;
  }

  /** Whether the collector is still busy with a run that passed its deadline. */
  busy(collector: Collector): boolean {
    return this.overdue.has(collector);
  }

  private async runOne(collector: Collector, ctx: CollectorContext): Promise<CollectorOutcome> {
    const started = performance.now();
    try {
      const raced = await this.race(collector, this.collection, () => collector.collect(ctx));
      const seconds = raced.settled || raced.busySeconds === undefined ? (performance.now() - started) / 1000 : raced.busySeconds;
      if (!raced.settled) return failed(collector.name, seconds, raced.reason, 'timeout');
      return { name: collector.name, success: true, durationSeconds: seconds, findings: raced.value.findings };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error('collector failed', { collector: collector.name, err: message });
      return failed(collector.name, (performance.now() - started) / 1000, message, 'error');
    }
  }

  /**
   * `work` raced against `deadline`; a throw is passed on. Past the deadline `passed` is called first,
   * then the run is logged and left pending; a collector still busy with such a run is not started again.
   */
  private async race<T>(collector: Collector, deadline: Deadline, work: () => Promise<T>, passed?: () => void): Promise<Raced<T>> {
    const started = performance.now();
    const busy = this.overdue.get(collector);
    if (busy !== undefined) {
      const runningFor = (started - busy.started) / 1000;
      this.log.error(`collector still busy with a run that passed ${busy.deadline.flag}; not started again`, {
        collector: collector.name,
        running_seconds: runningFor.toFixed(1),
      });
      return { settled: false, reason: `still busy with a run started ${runningFor.toFixed(1)}s ago`, busySeconds: runningFor };
    }
    const run = startRun(work);
    const timer = deadlineAfter(deadline.ms);
    try {
      const settled = await Promise.race([run, timer.reached]);
      if (settled !== timedOut) return { settled: true, value: settled };
    } finally {
      timer.cancel();
    }
    passed?.();
    this.leavePending(collector, run, started, deadline);
    this.log.error(`collector passed ${deadline.flag}; reported failed, its run left pending`, {
      collector: collector.name,
      timeout_seconds: deadline.ms / 1000,
    });
    return { settled: false, reason: `no result within ${formatDurationMs(deadline.ms)} (${deadline.flag})` };
  }

  private leavePending(collector: Collector, run: Promise<unknown>, started: number, deadline: Deadline): void {
    this.overdue.set(collector, { started, deadline });
    const fields = () => ({ collector: collector.name, running_seconds: ((performance.now() - started) / 1000).toFixed(1) });
    run
      .then(
        () =>
          this.log.warn('collector finished a run that passed its deadline; its result is dropped, the next collection runs it', fields()),
        (error: unknown) =>
          this.log.error('collector failed a run that passed its deadline', {
            ...fields(),
            err: error instanceof Error ? error.message : String(error),
          }),
      )
      .finally(() => this.overdue.delete(collector));
  }
}

/** The work as a promise, with a synchronous throw turned into a rejection. */
function startRun<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}

function deadlineAfter(ms: number): { reached: Promise<typeof timedOut>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<typeof timedOut>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), ms);
  });
  return { reached, cancel: () => clearTimeout(timer) };
}

function failed(name: string, durationSeconds: number, error: string, failure: CollectorFailure): CollectorOutcome {
  return { name, success: false, durationSeconds, findings: [], error, failure };
}

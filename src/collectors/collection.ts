import { performance } from 'node:perf_hooks';
import type { Finding } from '../findings/finding.js';
import type { Logger } from '../log/logger.js';
import type { Collector, CollectorContext, CollectorRun } from './collector.js';

/** Why a collector failed: it threw, or it passed --collector.timeout (or is still busy with a run that did). */
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

/**
 * Runs every collector once per collection, each under a deadline. A collector that throws or
 * passes the deadline is logged with its name and reported as failed; the others still run and
 * their findings are served. A run past its deadline is left pending, never started twice: until
 * it settles, later collections report that collector as still busy (a timeout) at once.
 */
export class CollectorRunner {
  /** Collectors whose run passed its deadline and has not settled yet, with when that run started. */
  private readonly overdue = new Map<Collector, number>();

  constructor(
    private readonly timeoutMs: number,
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

  private async runOne(collector: Collector, ctx: CollectorContext): Promise<CollectorOutcome> {
    const started = performance.now();
    const busySince = this.overdue.get(collector);
    if (busySince !== undefined) {
      const runningFor = (started - busySince) / 1000;
      this.log.error('collector still busy with a run that passed --collector.timeout; not started again', {
        collector: collector.name,
        running_seconds: runningFor.toFixed(1),
      });
      return failed(collector.name, runningFor, `still busy with a run started ${runningFor.toFixed(1)}s ago`, 'timeout');
    }
    const run = startRun(collector, ctx);
    const deadline = deadlineAfter(this.timeoutMs);
    try {
      const settled = await Promise.race([run, deadline.reached]);
      const seconds = (performance.now() - started) / 1000;
      if (settled !== timedOut) return { name: collector.name, success: true, durationSeconds: seconds, findings: settled.findings };
      this.leavePending(collector, run, started);
      this.log.error('collector passed --collector.timeout; reported failed, its run left pending', {
        collector: collector.name,
        timeout_seconds: this.timeoutMs / 1000,
      });
      return failed(collector.name, seconds, `no result within ${this.timeoutMs / 1000}s (--collector.timeout)`, 'timeout');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error('collector failed', { collector: collector.name, err: message });
      return failed(collector.name, (performance.now() - started) / 1000, message, 'error');
    } finally {
      deadline.cancel();
    }
  }

  private leavePending(collector: Collector, run: Promise<CollectorRun>, started: number): void {
    this.overdue.set(collector, started);
    const fields = () => ({ collector: collector.name, running_seconds: ((performance.now() - started) / 1000).toFixed(1) });
    run
      .then(
        () => this.log.warn('collector finished a run that passed its deadline; its result is dropped, the next collection runs it', fields()),
        (error: unknown) => this.log.error('collector failed a run that passed its deadline', { ...fields(), err: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => this.overdue.delete(collector));
  }
}

/** collect() as a promise, with a synchronous throw turned into a rejection. */
function startRun(collector: Collector, ctx: CollectorContext): Promise<CollectorRun> {
  return new Promise<CollectorRun>((resolve) => resolve(collector.collect(ctx)));
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

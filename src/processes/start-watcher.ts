import type { Logger } from '../log/logger.js';
import type { StartVerdict } from './judge.js';

export interface StartExamination {
  readonly verdict: StartVerdict;
  /** The executable as first seen, to notice an exec between two looks. */
  readonly exeKey: string;
}

export interface StartWatcherDeps {
  /** The PIDs listed in /proc now. */
  listPids(): number[];
  /** Read (right away) and judge these PIDs; a PID missing from the result was gone before it was read. */
  examine(pids: readonly number[]): Promise<ReadonlyMap<number, StartExamination>>;
  count(verdict: StartVerdict): void;
  readonly log: Logger;
}

/**
 * The watch of new PIDs: every interval, list /proc and examine only the PIDs that were not there
 * the last time, so a process that lives between two scrapes is still judged and counted. A new
 * PID is looked at once more on the next tick: a fork that execs after our first look (bash
 * starting a binary) is counted again under its new executable.
 */
export class StartWatcher {
  private known: Set<number> | undefined;
  private young = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 500;
  private running = false;

  constructor(private readonly deps: StartWatcherDeps) {}

  start(intervalMs: number): void {
    this.intervalMs = intervalMs;
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  setInterval(intervalMs: number): void {
    this.intervalMs = intervalMs;
  }

  get interval(): number | undefined {
    return this.running ? this.intervalMs : undefined;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.known = undefined;
    this.young.clear();
  }

  /** One look: the first only learns which PIDs exist; later ones count what is new. */
  async tick(): Promise<void> {
    const current = this.deps.listPids();
    const currentSet = new Set(current);
    const known = this.known;
    this.known = currentSet;
    if (!known) return;
    const fresh = current.filter((pid) => !known.has(pid));
    const recheck = [...this.young].filter(([pid]) => currentSet.has(pid));
    if (fresh.length === 0 && recheck.length === 0) {
      this.young.clear();
      return;
    }
    const results = await this.deps.examine([...fresh, ...recheck.map(([pid]) => pid)]);
    this.young = new Map();
    for (const pid of fresh) {
      const result = results.get(pid);
      this.deps.count(result?.verdict ?? 'unexamined');
      if (result) this.young.set(pid, result.exeKey);
    }
    for (const [pid, firstExe] of recheck) {
      const result = results.get(pid);
      if (result && result.exeKey !== firstExe) this.deps.count(result.verdict);
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.deps.log.warn('watch of new processes failed; retrying', { err: error instanceof Error ? error.message : String(error) }))
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.intervalMs);
    // The watch alone must never keep a finished command alive.
    this.timer.unref();
  }
}

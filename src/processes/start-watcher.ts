import type { Logger } from '../log/logger.js';
import type { StartVerdict } from './judge.js';

export interface StartExamination {
  readonly verdict: StartVerdict;
  /** The executable as first seen, to notice an exec between two looks. */
  readonly exeKey: string;
}

export interface StartWatcherDeps {
  /** The PIDs listed in /proc now, in ascending order. */
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
  /** The PIDs of the previous look, sorted, in a buffer reused from tick to tick (no Set per tick). */
  private known = new Int32Array(1024);
  private knownCount = -1;
  private young = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 500;
  private running = false;

  constructor(private readonly deps: StartWatcherDeps) {}

  /** Start watching: the PIDs listed now are the known ones, every later one is a start. */
  start(intervalMs: number): void {
    this.intervalMs = intervalMs;
    if (this.running) return;
    this.running = true;
    this.remember(this.deps.listPids());
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
    this.knownCount = -1;
    this.young.clear();
  }

  /** One look: the first only learns which PIDs exist; later ones count what is new. */
  async tick(): Promise<void> {
    const current = this.deps.listPids();
    const first = this.knownCount < 0;
    const fresh = first ? [] : this.newSince(current);
    this.remember(current);
    if (first) return;
    const recheck: [number, string][] = [];
    for (const entry of this.young) if (contains(current, entry[0])) recheck.push(entry);
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

  /** PIDs of `current` (sorted) that the previous look did not have: a merge of two sorted lists. */
  private newSince(current: readonly number[]): number[] {
    const fresh: number[] = [];
    let k = 0;
    for (let i = 0; i < current.length; i++) {
      const pid = current[i]!;
      while (k < this.knownCount && this.known[k]! < pid) k++;
      if (k >= this.knownCount || this.known[k] !== pid) fresh.push(pid);
    }
    return fresh;
  }

  private remember(current: readonly number[]): void {
    if (current.length > this.known.length) this.known = new Int32Array(current.length * 2);
    for (let i = 0; i < current.length; i++) this.known[i] = current[i]!;
    this.knownCount = current.length;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) =>
          this.deps.log.warn('watch of new processes failed; retrying', { err: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.intervalMs);
    // The watch alone must never keep a finished command alive.
    this.timer.unref();
  }
}

/** Binary search in a sorted list. */
function contains(sorted: readonly number[], pid: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] === pid) return true;
    if (sorted[mid]! < pid) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}

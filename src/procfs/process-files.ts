import { closeSync, open, openSync, read, stat, type BigIntStats } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { problemOf, type ProcReadProblem } from './errors.js';
import { readProcText } from './read-text.js';
import type { StuckReads, StuckTarget } from './stuck-reads.js';

/**
 * Per-process files whose read takes the target process's memory-map lock (mmap_lock): the kernel
 * walks its address space for them. A thread of that process waiting on a stalled file system (a
 * page fault on a FUSE or NFS file) can hold that lock, or queue for it, for as long as the stall
 * lasts, and every reader of these files waits behind it — `ps` included. Measured on Linux 6.18:
 * cmdline, environ and smaps_rollup block; maps is read under per-VMA locks since 6.17 but takes
 * the mmap_lock on older kernels; mem and pagemap walk the address space too.
 */
export const memoryMapFiles = ['cmdline', 'environ', 'maps', 'smaps', 'smaps_rollup', 'numa_maps', 'pagemap'] as const;
export type MemoryMapFile = (typeof memoryMapFiles)[number];

/**
 * Per-process files that never wait on the process itself: their text comes from the task
 * structure (stat, statm, status, io), or a link whose target the kernel writes from the dentry
 * alone (exe, cwd, fd/N, ns/*), with no file-system call and no lock the process can hold.
 */
export const taskFiles = ['stat', 'statm', 'status', 'io', 'limits', 'wchan', 'comm', 'loginuid', 'cgroup'] as const;
export type TaskFile = (typeof taskFiles)[number];

/** Why a guarded read gave nothing: the usual problems, or `stuck` (past the deadline, or its target already is), or `busy` (too many threads already held by stuck reads). */
export type GuardedProblem = ProcReadProblem | 'stuck' | 'busy';
export type GuardedRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly problem: GuardedProblem };
export type GuardedStat = { readonly ok: true; readonly stats: BigIntStats } | { readonly ok: false; readonly problem: GuardedProblem };

export interface ProcessFilesOptions {
  /** How long a read may take before its target is declared stuck (ms). */
  readonly deadlineMs: number;
  /**
   * How many threads of libuv's pool (UV_THREADPOOL_SIZE, 4 by default) stuck reads may hold at
   * once; past it, reads that could block are refused (`busy`) so the pool stays free for the rest.
   */
  readonly maxHeld?: number;
  /** Reads in flight at once in readMany. */
  readonly concurrency?: number;
}

/** The text of a guarded read, or an error naming why there is none (gone, denied, stuck, busy). */
export function textOf(read: GuardedRead, pid: number, file: MemoryMapFile): string {
  if (read.ok) return read.text;
  throw new Error(`/proc/${pid}/${file}: ${read.problem}`);
}

/** libuv's pool size: what its threads are sized from (the environment as the process started). */
export function threadPoolSize(): number {
  const size = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
  return Number.isInteger(size) && size > 0 ? Math.min(size, 1024) : 4;
}

/**
 * The one way to read a file of a process under /proc. Files that cannot wait on the process
 * (`taskFiles`) are read synchronously, thousands per scrape. Files that take its memory-map lock
 * (`memoryMapFiles`), and a stat of its root directory (which asks that root's file system), are read
 * on libuv's thread pool, never on the event loop, under a deadline: past it, the process is
 * declared stuck (StuckReads), the read is left to finish on its thread, and the process is not read
 * again until it does — one held thread per stuck process, never a queue behind it.
 *
 * A later detection that needs /proc/PID/maps or environ reads them with `read(pid, 'maps')`.
 */
export class ProcessFiles {
  private readonly deadlineMs: number;
  private readonly maxHeld: number;
  private readonly concurrency: number;
  /** Reads past their deadline that still hold a pool thread. */
  private held = 0;
  private readonly inFlight = new Set<InFlight>();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    readonly procfs: string,
    private readonly stuck: StuckReads,
    options: ProcessFilesOptions,
  ) {
    this.deadlineMs = options.deadlineMs;
    this.maxHeld = options.maxHeld ?? Math.max(1, Math.floor(threadPoolSize() / 2));
    this.concurrency = options.concurrency ?? Math.max(1, Math.min(4, threadPoolSize() - this.maxHeld));
  }

  /** A file that never waits on the process, read synchronously; throws what readProcText throws. */
  readTask(pid: number, file: TaskFile, encoding: 'latin1' | 'utf8' = 'latin1'): string {
    return readProcText(`${this.procfs}/${pid}/${file}`, encoding);
  }

  /** A file that takes the process's memory-map lock, read off the event loop within the deadline. */
  async read(
    pid: number,
    file: MemoryMapFile,
    limit = Number.POSITIVE_INFINITY,
    encoding: 'latin1' | 'utf8' = 'utf8',
  ): Promise<GuardedRead> {
    const path = `${this.procfs}/${pid}/${file}`;
    // cmdline has no open hook (the kernel opens it without looking at the process): opened here, one
    // job of the pool less. The other files check ptrace access to the process's memory as they open.
    const outcome = await this.guard({ kind: 'process_memory', pid }, path, () => readSmallFile(path, limit, file === 'cmdline'));
    return outcome.ok ? { ok: true, text: outcome.value.toString(encoding) } : outcome;
  }

  /** The same file of many processes, a few at a time; results in the order of `pids`. */
  readMany(
    pids: readonly number[],
    file: MemoryMapFile,
    limit = Number.POSITIVE_INFINITY,
    encoding: 'latin1' | 'utf8' = 'utf8',
  ): Promise<GuardedRead[]> {
    return inLanes(pids, this.concurrency, (pid) => this.read(pid, file, limit, encoding));
  }

  /** statRoot of many processes, a few at a time; results in the order of `pids`. */
  statRoots(pids: readonly number[]): Promise<GuardedStat[]> {
    return inLanes(pids, this.concurrency, (pid) => this.statRoot(pid));
  }

  /**
   * stat of /proc/PID/root: the kernel follows the link into the process's root directory and asks
   * that directory's file system, which may be one the process's owner mounted (FUSE in a user
   * namespace) and stalls. So it is guarded like a memory-map file.
   */
  statRoot(pid: number): Promise<GuardedStat> {
    return this.statLink(pid, 'root');
  }

  /**
   * stat of a link of a process that the kernel follows into a file system — its executable, a
   * descriptor (`fd/0`), its root — asks that file system, which may stall: guarded like the files
   * that take its memory-map lock.
   */
  statLink(pid: number, link: 'root' | 'exe' | `fd/${number}`): Promise<GuardedStat> {
    const path = `${this.procfs}/${pid}/${link}`;
    return this.guard({ kind: 'file_system', pid }, `stat ${path}`, () => statBig(path)).then((outcome): GuardedStat =>
      outcome.ok ? { ok: true, stats: outcome.value } : outcome,
    );
  }

  /** Reads past their deadline still holding a thread of the pool. */
  get heldThreads(): number {
    return this.held;
  }

  /**
   * `work` under the deadline. One watchdog timer looks at every read in flight (a timer per read
   * costs more than the read), and declares stuck the ones past the deadline: their callers go on,
   * their threads stay held until the read returns.
   */
  private guard<T>(target: StuckTarget, what: string, work: () => Promise<T>): Promise<Guarded<T>> {
    if (this.stuck.isStuck(target)) return Promise.resolve({ ok: false, problem: 'stuck' });
    if (this.held >= this.maxHeld) return Promise.resolve({ ok: false, problem: 'busy' });
    return new Promise<Guarded<T>>((resolve) => {
      const running = work();
      const flight: InFlight = {
        started: performance.now(),
        late: () => {
          this.inFlight.delete(flight);
          this.held++;
          const settled = running.then(noop, noop);
          void settled.then(() => this.held--);
          this.stuck.declare(target, what, settled);
          resolve({ ok: false, problem: 'stuck' });
        },
      };
      this.inFlight.add(flight);
      this.watch();
      running.then(
        (value) => {
          if (this.inFlight.delete(flight)) resolve({ ok: true, value });
        },
        (error: unknown) => {
          if (this.inFlight.delete(flight)) resolve({ ok: false, problem: problemOf(error) ?? 'malformed' });
        },
      );
    });
  }

  private watch(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(
      () => {
        const now = performance.now();
        let late = false;
        for (const flight of this.inFlight) late ||= now - flight.started >= this.deadlineMs;
        // The event loop may itself have been late: reads that returned meanwhile wait in the poll
        // phase, which runs before setImmediate's callbacks. Only reads still out then are stuck.
        if (late)
          setImmediate(() => {
            for (const flight of this.inFlight) if (now - flight.started >= this.deadlineMs) flight.late();
          });
        if (this.inFlight.size === 0) {
          clearInterval(this.watchdog);
          this.watchdog = undefined;
        }
      },
      Math.max(10, this.deadlineMs / 4),
    );
  }
}

const noop = () => undefined;

type Guarded<T> = { ok: true; value: T } | { ok: false; problem: GuardedProblem };

/** A read in flight, as the watchdog sees it. */
interface InFlight {
  readonly started: number;
  /** Past the deadline: declare its target stuck and let its caller go on. */
  late(): void;
}

/** `work` over `items`, at most `lanes` at a time; results in the order of `items`. */
async function inLanes<T, R>(items: readonly T[], lanes: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  return results;
}

/** Open, read to the end (or `limit`), close: the reads (and the open, unless `openHere`) are jobs on libuv's pool. */
function readSmallFile(path: string, limit: number, openHere: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const opened = (error: NodeJS.ErrnoException | null, fd: number) => {
      if (error) return reject(error);
      const chunks: Buffer[] = [];
      let total = 0;
      const finish = (failure: NodeJS.ErrnoException | null) => {
        // Closing a /proc file releases a reference to the process's memory; it never waits on it.
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
        if (failure) reject(failure);
        else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      };
      const step = () => {
        const size = Math.min(total < 4096 ? 4096 : total, limit - total);
        if (size <= 0) return finish(null);
        const buffer = Buffer.allocUnsafe(size);
        read(fd, buffer, 0, size, null, (failure, n) => {
          if (failure) return finish(failure);
          if (n > 0) {
            chunks.push(n === size ? buffer : buffer.subarray(0, n));
            total += n;
          }
          // As readProcText: a /proc file hands over its (small) text in one read, a short read is the end.
          if (n < size || total >= limit) finish(null);
          else step();
        });
      };
      step();
    };
    if (!openHere) return open(path, 'r', opened);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      return reject(error as NodeJS.ErrnoException);
    }
    opened(null, fd);
  });
}

function statBig(path: string): Promise<BigIntStats> {
  return new Promise((resolve, reject) => stat(path, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
}

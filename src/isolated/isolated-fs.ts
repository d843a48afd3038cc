import type { HashJob, HashResult } from '../integrity/hash-protocol.js';
import type { Logger } from '../log/logger.js';
import type { StuckReads } from '../procfs/stuck-reads.js';
import { HelperProcess, HelperStuckError } from './helper-process.js';
import type { Relisted, RunningImagesRequest, RunningImagesResult, ScanFs, WalkRequest, WalkResult } from '../integrity/scan-fs.js';
import type { RequestBody, StatItem, StatOutcome } from './protocol.js';

export interface IsolatedFsOptions {
  /** How long a helper may go without a sign of progress before it is declared stuck (ms). */
  readonly stallMs: number;
  /** How long an idle helper is kept for the next request (ms). */
  readonly idleMs?: number;
  /**
   * How long a target stays stuck at least: a helper whose stuck call could be killed at once says
   * nothing about whether the stall ended, so the target is not tried again before this.
   */
  readonly holdMs?: number;
}

/** Attempts of one request: each stuck one adds a target to skip, so this bounds the targets one request can trip on. */
const maxAttempts = 16;

/**
 * File-system calls that a stalled file system may never answer, made by helper processes
 * (helper.ts) instead of the exporter: a call stuck in the kernel can hold a thread forever, and
 * a process holding such a thread cannot even exit. A helper that stops answering is declared
 * stuck on the mount (or process root) it was touching (StuckReads), killed, and replaced; the
 * request is sent again to the new helper with that target skipped, and the target is skipped by
 * every request until the killed helper is gone (its call returned: the stall ended). One stuck
 * target therefore costs one lingering process, never a queue of them.
 *
 * Helpers are started on demand, one per lane (lanes hash in parallel), and end after being idle
 * for `idleMs`: a host with nothing on such file systems runs none between integrity scans.
 */
export class IsolatedFs implements ScanFs {
  /** One helper per lane: `scrape` for collections, `scan0`.. for an integrity scan's hashing in parallel, `images` for flagged executables. */
  private readonly lanes = new Map<string, HelperProcess>();
  /** Requests of one lane go one after another. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly stallMs: number;
  private readonly idleMs: number;
  private readonly holdMs: number;
  private closed = false;

  constructor(
    private readonly stuck: StuckReads,
    private readonly log: Logger,
    options: IsolatedFsOptions,
  ) {
    this.stallMs = options.stallMs;
    this.idleMs = options.idleMs ?? 60_000;
    this.holdMs = options.holdMs ?? 10_000;
  }

  /** stat or lstat of each path, for a collection; paths on a stuck mount answer `{ ok: false, code: 'STUCK' }` without being touched. */
  stat(items: readonly StatItem[], lane = 'scrape'): Promise<StatOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    return this.request<StatOutcome[]>(lane, { op: 'stat', items, skipMounts: [], skipPids: [] });
  }

  /** The integrity walk of the watched paths; a stuck mount is recorded in `trouble.stuck`, not walked. */
  walk(walk: WalkRequest): Promise<WalkResult> {
    return this.request<WalkResult>('scan0', { op: 'walk', walk, skipMounts: [], skipPids: [] });
  }

  /** lstat (and readlink) of host paths again, for the scan; undefined for one gone (or on a stuck mount). */
  relist(paths: readonly string[]): Promise<Relisted[]> {
    if (paths.length === 0) return Promise.resolve([]);
    return this.request<Relisted[]>('scan0', { op: 'relist', paths, skipMounts: [], skipPids: [] });
  }

  runningImages(running: RunningImagesRequest): Promise<RunningImagesResult> {
    return this.request<RunningImagesResult>('scan0', { op: 'runningImages', running, skipMounts: [], skipPids: [] });
  }

  /** Hash a batch on the scan's helper `lane`; a job on a stuck mount answers problem `stuck`. */
  hash(jobs: readonly HashJob[], lane: number): Promise<HashResult[]> {
    return this.request<HashResult[]>(`scan${lane}`, { op: 'hash', jobs, skipMounts: [], skipPids: [] });
  }

  /**
   * Hash flagged executables' images (fleet facts) on a helper of their own, ended after the batch:
   * flagged images are few and hashed once, so an exporter with nothing new to hash runs none.
   */
  async hashImages(jobs: readonly HashJob[]): Promise<HashResult[]> {
    if (jobs.length === 0) return [];
    try {
      return await this.request<HashResult[]>('images', { op: 'hash', jobs, skipMounts: [], skipPids: [] });
    } finally {
      const helper = this.lanes.get('images');
      if (helper && !helper.busy) {
        helper.kill();
        this.lanes.delete('images');
      }
    }
  }

  /** End a scan's helpers: scans are minutes apart, and an idle helper keeps ~15 MiB of its own. */
  endScan(): void {
    for (const [lane, helper] of this.lanes) {
      if (!lane.startsWith('scan') || helper.busy) continue;
      helper.kill();
      this.lanes.delete(lane);
    }
  }

  /** Helper processes now running (stuck ones that were killed and linger are not counted). */
  get running(): number {
    return [...this.lanes.values()].filter((h) => h.alive).length;
  }

  /** Kill every helper; nothing waits for one stuck in the kernel. */
  close(): void {
    this.closed = true;
    for (const helper of this.lanes.values()) helper.kill();
    this.lanes.clear();
  }

  private request<T>(lane: string, body: RequestBody): Promise<T> {
    const turn = (this.queues.get(lane) ?? Promise.resolve()).then(() => this.attempt<T>(lane, body));
    this.queues.set(
      lane,
      turn.catch(() => undefined),
    );
    return turn;
  }

  private async attempt<T>(lane: string, body: RequestBody): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new Error('isolated file-system calls stopped');
      const helper = this.helper(lane);
      try {
        return await helper.call<T>({
          ...body,
          skipMounts: this.stuck.stuckMounts(),
          skipPids: [...this.stuck.stuckPids()],
        } as RequestBody);
      } catch (error) {
        if (!(error instanceof HelperStuckError)) throw error;
        if (this.lanes.get(lane) === helper) this.lanes.delete(lane);
        this.stuck.declare(error.target, `${body.op} in a helper process`, error.gone, this.holdMs);
        if (attempt >= maxAttempts) throw new Error(`${body.op}: gave up after ${attempt} stuck file systems`);
        this.log.debug('retrying without the stuck target', { op: body.op, attempt });
      }
    }
  }

  private helper(lane: string): HelperProcess {
    const existing = this.lanes.get(lane);
    if (existing?.alive) return existing;
    const helper = new HelperProcess(this.stallMs, this.idleMs, (idle) => {
      if (this.lanes.get(lane) !== idle || idle.busy) return;
      this.lanes.delete(lane);
      idle.kill();
    });
    this.lanes.set(lane, helper);
    return helper;
  }
}

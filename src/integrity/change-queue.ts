/**
 * Changes the watch saw, coalesced into rescans. A write is many events (create, modify, attrib,
 * rename), a package upgrade thousands: each path is queued once, and the batch goes out when the
 * events settle, or after `maxDelayMs` at the latest so a steady trickle still gets judged. One
 * rescan then reads each changed path once: no re-read per event.
 *
 * The clock and timers are handed in: the coalescing is tested on a clock the test moves.
 */
export interface Timers {
  now(): number;
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fire, ms) => setTimeout(fire, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Why a rescan reads the whole watched set (a fast-path scan) instead of the changed paths. */
export const wholeScanReasons = ['overflow', 'burst', 'package_manager', 'accounts', 'stall_ended'] as const;
export type WholeScanReason = (typeof wholeScanReasons)[number];

export type ChangeBatch =
  | { readonly kind: 'targets'; readonly targets: readonly string[]; readonly firstAt: number }
  | { readonly kind: 'whole'; readonly reason: WholeScanReason; readonly targets: readonly string[]; readonly firstAt: number };

export interface ChangeQueueOptions {
  /** Quiet time after the last event before the batch goes out. */
  readonly settleMs: number;
  /** The longest a change waits in a batch. */
  readonly maxDelayMs: number;
  /** More changed paths than this in one batch: read the whole watched set instead (a fast-path scan). */
  readonly maxTargets: number;
  /** The package manager's database changed: a whole scan once it has been quiet this long (dpkg writes it many times a run)... */
  readonly packageSettleMs: number;
  /** ... or this long after it first changed. */
  readonly packageMaxDelayMs: number;
}

export const defaultChangeQueueOptions: ChangeQueueOptions = {
  settleMs: 100,
  maxDelayMs: 500,
  maxTargets: 10_000,
  packageSettleMs: 5_000,
  packageMaxDelayMs: 60_000,
};

/** Fires once when events have settled for `settleMs`, or `maxDelayMs` after the first. */
class Settler {
  private firstAt: number | undefined;
  private timer: unknown;

  constructor(
    private readonly settleMs: number,
    private readonly maxDelayMs: number,
    private readonly timers: Timers,
    private readonly fire: () => void,
  ) {}

  poke(): void {
    const now = this.timers.now();
    this.firstAt ??= now;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.settleMs, this.firstAt + this.maxDelayMs - now));
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.firstAt = undefined;
      this.fire();
    }, wait);
  }

  now(): void {
    this.cancel();
    this.fire();
  }

  cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.firstAt = undefined;
  }
}

export class ChangeQueue {
  private targets = new Set<string>();
  private whole: WholeScanReason | undefined;
  private firstAt: number | undefined;
  private readonly changes: Settler;
  private readonly packages: Settler;

  /** `ready` is called when a batch is due; the caller takes it when it can run a rescan. */
  constructor(
    private readonly options: ChangeQueueOptions,
    private readonly timers: Timers,
    ready: () => void,
  ) {
    this.changes = new Settler(options.settleMs, options.maxDelayMs, timers, ready);
    this.packages = new Settler(options.packageSettleMs, options.packageMaxDelayMs, timers, () => this.wholeNow('package_manager'));
  }

  /** Paths (or globs) to read again. */
  add(targets: readonly string[]): void {
    if (targets.length === 0) return;
    this.firstAt ??= this.timers.now();
    if (this.whole === undefined) {
      for (const target of targets) this.targets.add(target);
      if (this.targets.size > this.options.maxTargets) {
        this.whole = 'burst';
        this.targets.clear();
      }
    }
    this.changes.poke();
  }

  /** Events were lost (the kernel's queue overflowed) or the watched set itself changed: a whole scan, now. */
  wholeNow(reason: WholeScanReason): void {
    this.firstAt ??= this.timers.now();
    // An overflow says more than a burst: it is the reason the metrics show.
    if (this.whole === undefined || reason === 'overflow') this.whole = reason;
    this.targets.clear();
    this.changes.now();
  }

  /** The package manager wrote its database: a whole scan once it is done, so checksums are judged against what it installed. */
  packageManagerActive(): void {
    this.packages.poke();
  }

  /** Paths waiting for a rescan. */
  get pending(): number {
    return this.whole !== undefined ? 1 : this.targets.size;
  }

  /** The batch to rescan now, if any; later changes start the next one. */
  take(): ChangeBatch | undefined {
    const firstAt = this.firstAt;
    if (firstAt === undefined) return undefined;
    const targets = [...this.targets];
    const batch: ChangeBatch =
      this.whole !== undefined ? { kind: 'whole', reason: this.whole, targets, firstAt } : { kind: 'targets', targets, firstAt };
    this.targets = new Set();
    this.whole = undefined;
    this.firstAt = undefined;
    this.changes.cancel();
    return batch;
  }

  stop(): void {
    this.changes.cancel();
    this.packages.cancel();
  }
}

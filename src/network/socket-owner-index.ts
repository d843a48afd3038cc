import { listPids } from '../procfs/pids.js';
import { stillHolds, type SocketHolder } from '../procfs/socket-owners.js';
import type { Slicer } from '../scheduler/slicer.js';
import { scanDescriptors, scanSlicer, type FdScanStats } from './descriptor-scan.js';

export type { FdScanStats } from './descriptor-scan.js';

export interface OwnerLookup {
  readonly holders: ReadonlyMap<number, readonly SocketHolder[]>;
  /**
   * Wanted sockets no readable process holds (other users' without root, or closed meanwhile), each
   * with why: `denied` when descriptor tables were closed to us when it was last looked for.
   */
  readonly notFound: ReadonlyMap<number, UnownedReason>;
  /** The descriptor tables this lookup read, or undefined when it read none. */
  readonly scan: FdScanStats | undefined;
  /**
   * Processes that may have one of the sockets on a standard stream: every holder found, and holders
   * whose descriptor for a socket moved (a dup2 onto fd 0 and a close of the original). A process
   * only comes to hold a socket by creating it, by inheriting it (it is then new since the last
   * collection, and read), or by having it passed over a unix socket, which the full rescan catches.
   */
  readonly stdioCandidates: ReadonlySet<number>;
}

export type UnownedReason = 'denied' | 'not_found';

export interface SocketOwnerIndexOptions {
  /** How long a socket no process was found to hold waits before it is looked for again on its own. */
  readonly unownedRetryMs: number;
  /**
   * How often every process is read again for the holders of every socket: catches a socket passed
   * to a process that already existed, or a pid reused between two collections.
   */
  readonly fullRescanMs: number;
  /** How long the descriptor scan reads before it lets the event loop run (ms). */
  readonly sliceMs: number;
  readonly now: () => number;
}

interface Unowned {
  readonly retryAt: number;
  readonly denied: boolean;
}

/**
 * Socket inode → the processes holding it, kept across collections. A mapped socket costs one
 * readlink per holder per collection (it proves the same process still holds it at the same
 * descriptor, so PID reuse and fd passing are caught). Each collection also reads the processes
 * started since the last one, so a process that comes to share a socket (a shell an exploited
 * server spawned, inheriting its port or its connection) is seen at once; every `fullRescanMs`, and
 * whenever a listener is not mapped yet, every process is read, as `ss -p` does on every run.
 */
export class SocketOwnerIndex {
  private readonly known = new Map<number, readonly SocketHolder[]>();
  private readonly unowned = new Map<number, Unowned>();
  /** Processes whose descriptor tables were read, among those still listed. */
  private seenPids = new Set<number>();
  private nextFullScanAt = 0;
  /** Processes that may hold a socket at another descriptor than the one known, in this lookup: holders not proven, and those whose descriptor moved. */
  private moved = new Set<number>();
  private readonly options: SocketOwnerIndexOptions;

  constructor(
    private readonly procfs: string,
    options: Partial<SocketOwnerIndexOptions> = {},
  ) {
    this.options = { unownedRetryMs: 10 * 60_000, fullRescanMs: 5 * 60_000, sliceMs: 5, now: Date.now, ...options };
  }

  /** Holders of a socket found outside a scan (a standard stream read on its own): kept and checked like the rest. */
  learnHolder(inode: number, holder: SocketHolder): void {
    const list = this.known.get(inode) ?? [];
    if (list.some((h) => h.pid === holder.pid && h.fd === holder.fd)) return;
    this.known.set(inode, [...list, holder]);
    this.unowned.delete(inode);
  }

  /**
   * Find the holders of `complete` sockets (every holder, like `ss -p`: listeners) and of `any`
   * sockets (one holder is enough: connections; every process read meanwhile adds the holders it
   * has). `present` is every inode in the tables now; entries for sockets that closed are forgotten.
   * `slicer` cuts a scan into slices (see newSlicer). `verify` says which `any` sockets need their
   * holders proven (their owner is judged); the others, once mapped, only name the processes whose
   * standard streams are read (`stdioCandidates`), which costs less than a readlink per socket.
   *
   * A scan yields to the event loop, and the index's state is read before it and written after it:
   * one lookup at a time (the exporter never runs a collector's collections, or its learning, side by side).
   */
  async lookup(
    complete: readonly number[],
    any: readonly number[],
    present: ReadonlySet<number>,
    slicer = this.newSlicer(),
    verify: (inode: number) => boolean = () => true,
  ): Promise<OwnerLookup> {
    this.forgetClosed(present);
    this.moved = new Set();
    const holders = new Map<number, readonly SocketHolder[]>();
    const misses = new Set<number>();
    let completeMisses = 0;
    const waiting = new Set<number>();
    const now = this.options.now();
    const consider = (inode: number, needsAll: boolean) => {
      if (inode === 0 || holders.has(inode) || misses.has(inode) || waiting.has(inode)) return;
      const unproven = needsAll || verify(inode) ? undefined : this.known.get(inode);
      if (unproven) {
        for (const h of unproven) this.moved.add(h.pid);
        return;
      }
      const cached = this.verified(inode);
      if (cached) return holders.set(inode, cached);
      const unowned = this.unowned.get(inode);
      if (unowned && unowned.retryAt > now) return waiting.add(inode);
      misses.add(inode);
      if (needsAll) completeMisses++;
    };
    for (const inode of complete) consider(inode, true);
    for (const inode of any) consider(inode, false);
    const listeners = new Set(complete.filter((i) => i !== 0));
    // Every socket looked for: a process read for one of them adds itself as a holder of any other.
    const tracked = new Set([...listeners, ...any.filter((i) => i !== 0)]);
    if (misses.size === 0 && tracked.size === 0) return this.answer(holders, waiting, undefined);

    const pids = listPids(this.procfs);
    const seen = new Set<number>();
    const fresh: number[] = [];
    for (const pid of pids) {
      if (this.seenPids.has(pid)) seen.add(pid);
      else fresh.push(pid);
    }
    const full = completeMisses > 0 || (tracked.size > 0 && now >= this.nextFullScanAt);
    if (!full && misses.size === 0 && fresh.length === 0) {
      this.seenPids = seen;
      return this.answer(holders, waiting, undefined);
    }

    if (full) return this.fullScan(pids, new Set([...misses, ...waiting, ...tracked]), holders, now, slicer);
    return this.partialScan({ fresh, seen, misses, tracked, waiting, holders, now, slicer });
  }

  /** A slicer for one collection, started now: create it when the collection starts, so the work before the scan counts towards its first slice. */
  newSlicer(): Slicer {
    return scanSlicer(this.options.sliceMs);
  }

  /**
   * Holders of the sockets already mapped are known: only processes started since may have come to
   * share them, and each is read. Connections not mapped yet are looked for in those first, then in
   * holders, then in the rest, until found.
   */
  private async partialScan(p: {
    fresh: number[];
    seen: ReadonlySet<number>;
    misses: ReadonlySet<number>;
    tracked: ReadonlySet<number>;
    waiting: Set<number>;
    holders: Map<number, readonly SocketHolder[]>;
    now: number;
    slicer: Slicer;
  }): Promise<OwnerLookup> {
    const { misses, holders, waiting } = p;
    const holderPids = new Set<number>();
    for (const list of this.known.values()) for (const h of list) holderPids.add(h.pid);
    const rest = [...p.seen].sort((a, b) => Number(holderPids.has(b)) - Number(holderPids.has(a)) || b - a);
    const mustRead = p.fresh.length;
    const missed = [...misses];
    const enough = (read: number, found: ReadonlyMap<number, unknown>) => read >= mustRead && missed.every((inode) => found.has(inode));
    const scan = await scanDescriptors(this.procfs, [...p.fresh.reverse(), ...rest], new Set([...misses, ...p.tracked]), enough, p.slicer);
    this.seenPids = new Set([...p.seen, ...scan.read]);
    for (const [inode, found] of scan.found) {
      if (misses.has(inode)) continue;
      const merged = [...(holders.get(inode) ?? [])];
      for (const h of found) if (!merged.some((m) => m.pid === h.pid && m.fd === h.fd)) merged.push(h);
      this.known.set(inode, merged);
      this.unowned.delete(inode);
      waiting.delete(inode);
      holders.set(inode, merged);
    }
    this.record(misses, scan.found, scan.stats, holders, waiting, p.now);
    return this.answer(holders, waiting, scan.stats);
  }

  /** Read every process for every listener (co-holders that appeared since) and every socket waiting to be retried. */
  private async fullScan(
    pids: number[],
    searched: ReadonlySet<number>,
    holders: Map<number, readonly SocketHolder[]>,
    now: number,
    slicer: Slicer,
  ): Promise<OwnerLookup> {
    const scan = await scanDescriptors(this.procfs, pids.reverse(), searched, () => false, slicer);
    this.seenPids = new Set(scan.read);
    this.nextFullScanAt = now + this.options.fullRescanMs;
    const notFound = new Set<number>();
    this.record(searched, scan.found, scan.stats, holders, notFound, now);
    return this.answer(holders, notFound, scan.stats);
  }

  /** Remember what a scan found for the sockets it looked for; the ones it did not find wait to be retried. */
  private record(
    searched: ReadonlySet<number>,
    found: ReadonlyMap<number, readonly SocketHolder[]>,
    stats: FdScanStats,
    holders: Map<number, readonly SocketHolder[]>,
    notFound: Set<number>,
    now: number,
  ): void {
    for (const inode of searched) {
      const list = found.get(inode);
      if (list) {
        this.known.set(inode, list);
        this.unowned.delete(inode);
        holders.set(inode, list);
      } else {
        this.known.delete(inode);
        this.unowned.set(inode, { retryAt: now + this.options.unownedRetryMs, denied: stats.denied > 0 });
        holders.delete(inode);
        notFound.add(inode);
      }
    }
  }

  private answer(holders: Map<number, readonly SocketHolder[]>, unowned: ReadonlySet<number>, scan: FdScanStats | undefined): OwnerLookup {
    const notFound = new Map<number, UnownedReason>();
    for (const inode of unowned) notFound.set(inode, this.unowned.get(inode)?.denied ? 'denied' : 'not_found');
    const stdioCandidates = new Set(this.moved);
    for (const list of holders.values()) for (const h of list) stdioCandidates.add(h.pid);
    return { holders, notFound, scan, stdioCandidates };
  }

  /** Cached holders that still hold the socket; undefined when none does (or it was never mapped). */
  private verified(inode: number): readonly SocketHolder[] | undefined {
    const cached = this.known.get(inode);
    if (!cached) return undefined;
    const valid = cached.filter((h) => stillHolds(this.procfs, h, inode));
    // A holder that let go of the descriptor may have moved the socket to another (dup2 onto fd 0).
    for (const h of cached) if (!valid.includes(h)) this.moved.add(h.pid);
    if (valid.length === 0) {
      this.known.delete(inode);
      return undefined;
    }
    if (valid.length !== cached.length) this.known.set(inode, valid);
    return valid;
  }

  private forgetClosed(present: ReadonlySet<number>): void {
    for (const inode of this.known.keys()) if (!present.has(inode)) this.known.delete(inode);
    for (const inode of this.unowned.keys()) if (!present.has(inode)) this.unowned.delete(inode);
  }
}

import { listPids } from '../procfs/pids.js';
import { readSocketFds, stillHolds, type SocketHolder } from '../procfs/socket-owners.js';

/** What a lookup cost: a scan of every process's descriptors happens only for sockets never seen before. */
export interface FdScanStats {
  readonly processes: number;
  /** Processes whose descriptors we may not read: their sockets show as owner unknown. */
  readonly denied: number;
  /** Processes that exited while being read. */
  readonly gone: number;
  /** Whether every process was read (false when the scan stopped once it found what it looked for). */
  readonly complete: boolean;
}

export interface OwnerLookup {
  readonly holders: ReadonlyMap<number, readonly SocketHolder[]>;
  /** Wanted sockets no readable process holds: kernel sockets, other users' (without root), or closed meanwhile. */
  readonly notFound: readonly number[];
  /** Whether processes were denied to us when the not-found sockets were last looked for. */
  readonly deniedSeen: boolean;
  /** The descriptor scan this lookup needed, or undefined when every socket was already mapped. */
  readonly scan: FdScanStats | undefined;
}

export interface SocketOwnerIndexOptions {
  /** How long a socket no process was found to hold waits before it is looked for again on its own. */
  readonly unownedRetryMs: number;
  readonly now: () => number;
}

interface Unowned {
  readonly retryAt: number;
  readonly denied: boolean;
}

/**
 * Socket inode → the processes holding it, kept across collections. A mapped socket costs one
 * readlink per holder per collection (it proves the same process still holds it at the same
 * descriptor, so PID reuse and fd passing are caught); only a socket not mapped yet makes us read
 * every process's descriptor table, as `ss -p` does on every run.
 */
export class SocketOwnerIndex {
  private readonly known = new Map<number, readonly SocketHolder[]>();
  private readonly unowned = new Map<number, Unowned>();
  private seenPids = new Set<number>();
  private readonly options: SocketOwnerIndexOptions;

  constructor(
    private readonly procfs: string,
    options: Partial<SocketOwnerIndexOptions> = {},
  ) {
    this.options = { unownedRetryMs: 10 * 60_000, now: Date.now, ...options };
  }

  /**
   * Find the holders of `complete` sockets (every holder, like `ss -p`: listeners) and of `any`
   * sockets (one holder is enough: connections). `present` is every inode in the tables now;
   * entries for sockets that closed are forgotten.
   */
  lookup(complete: readonly number[], any: readonly number[], present: ReadonlySet<number>): OwnerLookup {
    this.forgetClosed(present);
    const holders = new Map<number, readonly SocketHolder[]>();
    const misses = new Set<number>();
    let completeMisses = 0;
    const notFound: number[] = [];
    const now = this.options.now();
    const consider = (inode: number, needsAll: boolean) => {
      if (inode === 0 || holders.has(inode) || misses.has(inode)) return;
      const cached = this.verified(inode);
      if (cached) return holders.set(inode, cached);
      const unowned = this.unowned.get(inode);
      if (unowned && unowned.retryAt > now) {
        notFound.push(inode);
        return;
      }
      misses.add(inode);
      if (needsAll) completeMisses++;
    };
    for (const inode of complete) consider(inode, true);
    for (const inode of any) consider(inode, false);
    if (misses.size === 0) return { holders, notFound, deniedSeen: notFound.some((i) => this.unowned.get(i)?.denied), scan: undefined };

    // A scan that reads every process anyway answers for every listener (co-holders that appeared
    // since, e.g. forked workers) and for the sockets waiting to be retried.
    const full = completeMisses > 0;
    const searched = full ? new Set([...misses, ...notFound.splice(0), ...complete.filter((i) => i !== 0)]) : misses;
    const scan = this.scan(searched, full);
    for (const inode of searched) {
      const found = scan.found.get(inode);
      if (found) {
        this.known.set(inode, found);
        this.unowned.delete(inode);
        holders.set(inode, found);
      } else {
        this.unowned.set(inode, { retryAt: now + this.options.unownedRetryMs, denied: scan.stats.denied > 0 });
        holders.delete(inode);
        notFound.push(inode);
      }
    }
    return { holders, notFound, deniedSeen: notFound.some((i) => this.unowned.get(i)?.denied), scan: scan.stats };
  }

  /** Cached holders that still hold the socket; undefined when none does (or it was never mapped). */
  private verified(inode: number): readonly SocketHolder[] | undefined {
    const cached = this.known.get(inode);
    if (!cached) return undefined;
    const valid = cached.filter((h) => stillHolds(this.procfs, h, inode));
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

  /**
   * Read descriptor tables until every wanted socket is found (or, when `needsAll`, every process is
   * read, since a listener may be shared by a master and its workers). New processes first, then
   * processes known to hold sockets, then the rest: a new socket is most often in a new process.
   */
  private scan(wanted: ReadonlySet<number>, needsAll: boolean): { found: Map<number, SocketHolder[]>; stats: FdScanStats } {
    const pids = listPids(this.procfs);
    const holderPids = new Set<number>();
    for (const list of this.known.values()) for (const h of list) holderPids.add(h.pid);
    const rank = (pid: number) => (this.seenPids.has(pid) ? (holderPids.has(pid) ? 1 : 2) : 0);
    const ordered = pids.sort((a, b) => rank(a) - rank(b) || b - a);
    this.seenPids = new Set(pids);

    const found = new Map<number, SocketHolder[]>();
    let processes = 0;
    let denied = 0;
    let gone = 0;
    for (const pid of ordered) {
      if (!needsAll && found.size === wanted.size) break;
      processes++;
      const read = readSocketFds(this.procfs, pid);
      if (!read.ok) {
        if (read.problem === 'gone') gone++;
        else denied++;
        continue;
      }
      for (const { fd, inode } of read.sockets) {
        if (!wanted.has(inode)) continue;
        const list = found.get(inode);
        if (list) list.push({ pid, fd });
        else found.set(inode, [{ pid, fd }]);
      }
    }
    return { found, stats: { processes, denied, gone, complete: processes === ordered.length } };
  }
}

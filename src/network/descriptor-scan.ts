import { Slicer } from '../scheduler/slicer.js';
import { readSocketFds, type SocketHolder } from '../procfs/socket-owners.js';

/** What reading descriptor tables cost. */
export interface FdScanStats {
  /** Processes whose descriptor tables were read (or tried). */
  readonly processes: number;
  /** Processes whose descriptors we may not read: their sockets show as owner unknown. */
  readonly denied: number;
  /** Processes that exited while being read. */
  readonly gone: number;
  /** Whether every listed process was read (false when the scan stopped once it had what it needed). */
  readonly complete: boolean;
  /** Whether the scan let the event loop run: what it found may have changed meanwhile. */
  readonly yielded: boolean;
}

export interface DescriptorScan {
  /** Every holder found of each wanted socket. */
  readonly found: ReadonlyMap<number, readonly SocketHolder[]>;
  /** The processes actually read, so the caller knows which ones it has seen. */
  readonly read: readonly number[];
  readonly stats: FdScanStats;
}

/** One process's descriptor table costs tens of microseconds: the clock is looked at every few processes, not every one. */
const processesPerClockCheck = 4;

/** The slicer for a collection's descriptor scan, started when the collection starts: work before the scan counts towards its first slice. */
export function scanSlicer(sliceMs: number): Slicer {
  return new Slicer(sliceMs, processesPerClockCheck);
}

/**
 * Read the descriptor tables of `pids` in order, recording the holders of `wanted` sockets, until
 * `enough(processesRead, found)` says the rest need not be read. Each table is read synchronously
 * (a promise per tiny /proc read costs several times more), in the slices of `slicer`, between which
 * the event loop runs: a thousand processes would otherwise hold it for tens of milliseconds.
 */
export async function scanDescriptors(
  procfs: string,
  pids: readonly number[],
  wanted: ReadonlySet<number>,
  enough: (processesRead: number, found: ReadonlyMap<number, readonly SocketHolder[]>) => boolean,
  slicer: Slicer,
): Promise<DescriptorScan> {
  const found = new Map<number, SocketHolder[]>();
  const read: number[] = [];
  let denied = 0;
  let gone = 0;
  const pausesBefore = slicer.yielded;
  for (const pid of pids) {
    if (enough(read.length, found)) break;
    const pause = slicer.due();
    if (pause) await pause;
    read.push(pid);
    const result = readSocketFds(procfs, pid);
    if (!result.ok) {
      if (result.problem === 'gone') gone++;
      else denied++;
      continue;
    }
    for (const { fd, inode } of result.sockets) {
      if (!wanted.has(inode)) continue;
      const list = found.get(inode);
      if (list) list.push({ pid, fd });
      else found.set(inode, [{ pid, fd }]);
    }
  }
  // A scan long enough to be cut ends with a pause too: what the collection does with it (reading
  // the owners, judging, the metrics) then starts a slice of its own instead of ending the last one.
  const yielded = slicer.yielded > pausesBefore;
  if (yielded) await slicer.pause();
  return { found, read, stats: { processes: read.length, denied, gone, complete: read.length === pids.length, yielded } };
}

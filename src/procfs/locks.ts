import { readProcText } from './read-text.js';
import { clockTicksPerSecond, parseStat } from './stat.js';
import { readBootTime } from './system.js';

/**
 * /proc/locks: every file lock held on the system (proc(5)). A line reads
 * `1: POSIX  ADVISORY  WRITE 4242 fe:00:402117 0 EOF`; waiters are marked `->` and left out. The
 * file is named by device (major:minor, hex) and inode, as the kernel sees them.
 */
export interface HeldLock {
  readonly type: string;
  /** The holder; -1 for an open file description lock (OFDLCK), which no process owns. */
  readonly pid: number;
  readonly major: number;
  readonly minor: number;
  readonly inode: string;
}

export function parseLocks(text: string): HeldLock[] {
  const out: HeldLock[] = [];
  for (const line of text.split('\n')) {
    const match = /^\d+:\s+(\S+)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (match)
      out.push({
        type: match[1]!,
        pid: Number(match[2]),
        major: parseInt(match[3]!, 16),
        minor: parseInt(match[4]!, 16),
        inode: match[5]!,
      });
  }
  return out;
}

/** The held locks, or undefined when /proc/locks cannot be read (a hardened /proc). */
export function readLocks(procfs: string): HeldLock[] | undefined {
  try {
    return parseLocks(readProcText(`${procfs}/locks`));
  } catch {
    return undefined;
  }
}

/**
 * When a process started (Unix seconds), from its stat's start ticks and the boot time; undefined
 * when it is gone or cannot be read. For the holders of a lock: one or two reads, when one is held.
 */
export function processStartedAt(procfs: string, pid: number): number | undefined {
  try {
    const stat = parseStat(readProcText(`${procfs}/${pid}/stat`), `${procfs}/${pid}/stat`);
    return readBootTime(procfs) + stat.startTicks / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

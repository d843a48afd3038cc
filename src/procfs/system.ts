import { readFileSync } from 'node:fs';
import { ProcParseError } from './errors.js';
import { readProcText } from './read-text.js';

/** Boot time (Unix seconds) from the `btime` line of /proc/stat: start ticks become wall-clock times. */
export function parseBootTime(text: string, file = 'stat'): number {
  const match = /^btime (\d+)$/m.exec(text);
  if (!match) throw new ProcParseError(file, 'no btime line');
  return Number(match[1]);
}

export function readBootTime(procfs: string): number {
  return parseBootTime(readFileSync(`${procfs}/stat`, 'latin1'), `${procfs}/stat`);
}

/**
 * Seconds since boot, the first field of /proc/uptime. Unlike btime it never moves when the wall
 * clock is stepped, so an age measured against it (uptime − start ticks) is always right.
 */
export function parseUptime(text: string, file = 'uptime'): number {
  const value = Number(/^\s*(\d+(?:\.\d+)?)\s/.exec(text)?.[1]);
  if (!Number.isFinite(value)) throw new ProcParseError(file, `not an uptime: "${text.trim()}"`);
  return value;
}

export function readUptime(procfs: string): number {
  const file = `${procfs}/uptime`;
  return parseUptime(readFileSync(file, 'latin1'), file);
}

/** /proc/sys/kernel/pid_max: PIDs are allocated below it. */
export function parsePidMax(text: string, file = 'pid_max'): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 2) throw new ProcParseError(file, `not a PID limit: "${text.trim()}"`);
  return value;
}

export function readPidMax(procfs: string): number {
  const file = `${procfs}/sys/kernel/pid_max`;
  return parsePidMax(readFileSync(file, 'latin1'), file);
}

let pageSize: number | undefined;

/** The kernel's page size, for /proc/PID/statm (counted in pages): from our own smaps, else 4 KiB. */
export function systemPageSize(): number {
  if (pageSize === undefined) {
    try {
      const match = /KernelPageSize:\s+(\d+) kB/.exec(readProcText('/proc/self/smaps', 'latin1', 4096));
      pageSize = match ? Number(match[1]) * 1024 : 4096;
    } catch {
      pageSize = 4096;
    }
  }
  return pageSize;
}

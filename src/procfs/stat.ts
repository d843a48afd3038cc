import { decimalAt } from './decimal.js';
import { ProcParseError } from './errors.js';

/** The fields of /proc/PID/stat the exporter uses (proc(5)). */
export interface ProcStat {
  readonly pid: number;
  /** The kernel's comm: at most 15 bytes, set by the process itself, so untrusted. */
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly flags: number;
  /** User and system CPU time in clock ticks (USER_HZ, 100 per second on Linux). */
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  /** Start time in clock ticks after boot: with the PID, the identity of a process (PID reuse changes it). */
  readonly startTicks: number;
}

export const clockTicksPerSecond = 100;
/** PF_KTHREAD in the flags field: a kernel thread. */
export const kernelThreadFlag = 0x00200000;

/**
 * The last field of proc(5) that the parsers read (starttime). Field 24 (rss) is left alone on
 * purpose: it lags the process's real resident set, which comes from statm (see statm.ts).
 */
const lastWanted = 22;

/**
 * Parse /proc/PID/stat. The comm field is wrapped in parentheses and may itself contain spaces and
 * parentheses (`(a) b (c)`), so the fields start after the last ')'.
 */
export function parseStat(text: string, file = 'stat'): ProcStat {
  const bytes = Buffer.from(text, 'latin1');
  const fields = emptyStatFields();
  parseStatBytes(bytes, bytes.length, fields, file);
  return {
    pid: fields.pid,
    comm: text.slice(fields.commStart, fields.commEnd),
    state: fields.state,
    ppid: fields.ppid,
    flags: fields.flags,
    utimeTicks: fields.utimeTicks,
    stimeTicks: fields.stimeTicks,
    startTicks: fields.startTicks,
  };
}

/** Whether the flags (of ProcStat or StatFields) mark a kernel thread: no executable, no memory of its own. */
export function isKernelThread(stat: Pick<ProcStat, 'flags'>): boolean {
  return (stat.flags & kernelThreadFlag) !== 0;
}

/** User plus system CPU time in seconds. */
export function cpuSeconds(stat: Pick<ProcStat, 'utimeTicks' | 'stimeTicks'>): number {
  return (stat.utimeTicks + stat.stimeTicks) / clockTicksPerSecond;
}

/** The fields parseStatBytes fills in; `commStart`/`commEnd` locate comm in the bytes. */
export interface StatFields {
  pid: number;
  state: string;
  ppid: number;
  flags: number;
  utimeTicks: number;
  stimeTicks: number;
  startTicks: number;
  commStart: number;
  commEnd: number;
}

export function emptyStatFields(): StatFields {
  return { pid: 0, state: '?', ppid: 0, flags: 0, utimeTicks: 0, stimeTicks: 0, startTicks: 0, commStart: 0, commEnd: 0 };
}

/**
 * parseStat for the raw bytes of /proc/PID/stat, into a record the caller reuses: on the scrape
 * path it runs for every process, and making no string or object keeps the garbage collector
 * idle. Same rules and errors as parseStat.
 */
export function parseStatBytes(bytes: Uint8Array, length: number, into: StatFields, file = 'stat'): void {
  const open = bytes.indexOf(0x28);
  const close = bytes.lastIndexOf(0x29, length - 1);
  if (open < 1 || open >= length || close < open) throw new ProcParseError(file, 'no "(comm)" field');
  const pid = decimalAt(bytes, 0, open - (bytes[open - 1] === 0x20 ? 1 : 0));
  if (pid === undefined || pid <= 0) throw new ProcParseError(file, `bad pid "${latin1(bytes, 0, open).trim()}"`);
  let end = length;
  while (end > close && (bytes[end - 1] === 10 || bytes[end - 1] === 32)) end--;
  let field = 3;
  let at = close + 2;
  while (at <= end && field <= lastWanted) {
    let next = at;
    while (next < end && bytes[next] !== 0x20) next++;
    if (field === 3) into.state = next > at ? String.fromCharCode(bytes[at]!) : '?';
    else if (field === 4 || field === 9 || field === 14 || field === 15 || field === 22) {
      const value = decimalAt(bytes, at, next);
      if (value === undefined) throw new ProcParseError(file, `field ${field} is not a number: "${latin1(bytes, at, next)}"`);
      if (field === 4) into.ppid = value;
      else if (field === 9) into.flags = value;
      else if (field === 14) into.utimeTicks = value;
      else if (field === 15) into.stimeTicks = value;
      else into.startTicks = value;
    }
    field++;
    at = next + 1;
  }
  if (field - 1 < lastWanted) throw new ProcParseError(file, `expected at least ${lastWanted} fields, found ${field - 1}`);
  into.pid = pid;
  into.commStart = open + 1;
  into.commEnd = close;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, Math.max(0, to - from)).toString('latin1');
}

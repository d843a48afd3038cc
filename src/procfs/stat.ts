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
  readonly rssPages: number;
}

export const clockTicksPerSecond = 100;
const PF_KTHREAD = 0x00200000;

/**
 * Parse /proc/PID/stat. The comm field is wrapped in parentheses and may itself contain spaces and
 * parentheses (`(a) b (c)`), so the fields start after the last ')'.
 */
export function parseStat(text: string, file = 'stat'): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) throw new ProcParseError(file, 'no "(comm)" field');
  const pid = Number(text.slice(0, open).trim());
  const fields = text.slice(close + 2).trimEnd().split(' ');
  // fields[0] is field 3 (state) of proc(5); field N is at index N - 3.
  if (fields.length < 22) throw new ProcParseError(file, `expected at least 24 fields, found ${fields.length + 2}`);
  const num = (field: number): number => {
    const value = Number(fields[field - 3]);
    if (!Number.isFinite(value)) throw new ProcParseError(file, `field ${field} is not a number: "${fields[field - 3]}"`);
    return value;
  };
  if (!Number.isInteger(pid) || pid <= 0) throw new ProcParseError(file, `bad pid "${text.slice(0, open).trim()}"`);
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: fields[0] ?? '?',
    ppid: num(4),
    flags: num(9),
    utimeTicks: num(14),
    stimeTicks: num(15),
    startTicks: num(22),
    rssPages: num(24),
  };
}

export function isKernelThread(stat: ProcStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0;
}

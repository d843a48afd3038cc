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
 * The last field of proc(5) that must be there (starttime). Field 24 (rss) is not a resident set
 * to report: it lags the process's real one, which comes from statm (see statm.ts).
 */
const lastWanted = 22;
/** env_end: the last of the fields that mark a process image (see StatFields.imageMark). */
const lastImageField = 51;

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
  /** Minor plus major page faults (fields 10 and 12); NaN when unreadable, so it never compares equal. */
  faults: number;
  /** Field 24 (rss, pages): moves with the resident set, late (see statm.ts); NaN when unreadable. */
  rssPages: number;
  /**
   * The image mark, from the addresses an exec sets anew (start and end of code, start of the
   * stack, start and end of data, start of the heap, start and end of argv and environ: fields
   * 26–28, 45–51): A is the start of the stack, B the sum of the others. ASLR draws the stack,
   * and the heap and code of position-independent programs, afresh at every exec; without it the
   * lengths of the program, its path, argv and environ still move them. 0 and 0 when the kernel
   * withholds them (no ptrace access: start of the stack 0), for a zombie or kernel thread (no
   * memory), or on a kernel too old to show them all.
   */
  imageMarkA: number;
  imageMarkB: number;
  /**
   * Field 49 (arg_end): where the arguments end in its memory. 0 between the two halves of an exec
   * (the new memory in place, the arguments not yet), and when the kernel withholds the addresses
   * (as for the image mark).
   */
  argsEnd: number;
}

export function emptyStatFields(): StatFields {
  return {
    pid: 0,
    state: '?',
    ppid: 0,
    flags: 0,
    utimeTicks: 0,
    stimeTicks: 0,
    startTicks: 0,
    commStart: 0,
    commEnd: 0,
    faults: 0,
    rssPages: 0,
    imageMarkA: 0,
    imageMarkB: 0,
    argsEnd: 0,
  };
}

/** Whether parseStatBytes found an image mark: an unchanged one then means no exec since. */
export function hasImageMark(fields: Pick<StatFields, 'imageMarkA' | 'imageMarkB'>): boolean {
  return fields.imageMarkA !== 0 || fields.imageMarkB !== 0;
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
  let minorFaults = NaN;
  // The image mark: the start of the stack, and the sum of the other addresses (each below 2^47,
  // so the sum is exact); NaN when one is too long to be exact, which never compares equal.
  let stack = 0;
  let addresses = 0;
  let argsEnd = 0;
  while (at <= end && field <= lastImageField) {
    let next = at;
    while (next < end && bytes[next] !== 0x20) next++;
    if (field <= 24) {
      if (field === 3) into.state = next > at ? String.fromCharCode(bytes[at]!) : '?';
      else if (field === 4 || field === 9 || field === 14 || field === 15 || field === 22) {
        const value = decimalAt(bytes, at, next);
        if (value === undefined) throw new ProcParseError(file, `field ${field} is not a number: "${latin1(bytes, at, next)}"`);
        if (field === 4) into.ppid = value;
        else if (field === 9) into.flags = value;
        else if (field === 14) into.utimeTicks = value;
        else if (field === 15) into.stimeTicks = value;
        else into.startTicks = value;
      } else if (field === 10) minorFaults = decimalAt(bytes, at, next) ?? NaN;
      else if (field === 12) into.faults = minorFaults + (decimalAt(bytes, at, next) ?? NaN);
      else if (field === 24) into.rssPages = decimalAt(bytes, at, next) ?? NaN;
    } else if (field === 28) stack = decimalAt(bytes, at, next) ?? NaN;
    else if (field === 26 || field === 27 || field >= 45) {
      const address = decimalAt(bytes, at, next) ?? NaN;
      addresses += address;
      if (field === 49) argsEnd = address;
    }
    field++;
    at = next + 1;
  }
  if (field - 1 < lastWanted) throw new ProcParseError(file, `expected at least ${lastWanted} fields, found ${field - 1}`);
  if (field - 1 < 24) into.rssPages = NaN;
  // No mark when the kernel withholds the stack's start (0) or is too old to show every field.
  const marked = stack !== 0 && field - 1 === lastImageField;
  into.imageMarkA = marked ? stack : 0;
  into.imageMarkB = marked ? addresses : 0;
  into.argsEnd = marked ? argsEnd : 0;
  into.pid = pid;
  into.commStart = open + 1;
  into.commEnd = close;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, Math.max(0, to - from)).toString('latin1');
}

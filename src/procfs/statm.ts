import { decimalAt } from './decimal.js';
import { ProcParseError } from './errors.js';
import { systemPageSize } from './system.js';

/**
 * The field of /proc/PID/statm the exporter uses: the resident set, the one source of a process's
 * resident memory for every reader.
 *
 * Not stat's rss field: a process's page counters are per-CPU since Linux 6.2, and stat reads only
 * their shared total, which lags by up to a batch of pages for every CPU the process ran on (up to
 * tens of MiB on a host with many cores). statm and status (VmRSS, what `ps -o rss` shows) add the
 * per-CPU parts on current kernels: on 6.18 (2 cores), for a 90 MiB process, stat said 96 to 288
 * KiB less than statm, VmRSS and ps, which agreed to the page. On older kernels all three read the
 * same counter, so statm is never the worse choice; of the exact two it is the cheaper to generate
 * and to parse.
 */
export interface ProcStatm {
  /** Resident pages: anonymous, file-backed and shared memory mapped in. */
  readonly residentPages: number;
}

export function parseStatm(text: string, file = 'statm'): ProcStatm {
  const bytes = Buffer.from(text, 'latin1');
  return { residentPages: parseStatmBytes(bytes, bytes.length, file) };
}

/**
 * parseStatm for the raw bytes of /proc/PID/statm, returning the resident pages: on the scrape
 * path it runs for every process, and makes no string or object.
 */
export function parseStatmBytes(bytes: Uint8Array, length: number, file = 'statm'): number {
  // "size resident shared text lib data dt": the second field.
  let sizeEnd = 0;
  while (sizeEnd < length && bytes[sizeEnd] !== 0x20) sizeEnd++;
  let residentEnd = sizeEnd + 1;
  while (residentEnd < length && bytes[residentEnd] !== 0x20 && bytes[residentEnd] !== 10) residentEnd++;
  const size = decimalAt(bytes, 0, sizeEnd);
  const resident = decimalAt(bytes, sizeEnd + 1, residentEnd);
  if (size === undefined || resident === undefined) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1').trim();
    throw new ProcParseError(file, `expected "size resident ..." in pages, found "${text.slice(0, 60)}"`);
  }
  return resident;
}

/** Resident memory in bytes from statm's page count. */
export function residentBytes(pages: number): number {
  return pages * systemPageSize();
}

import { readFile } from 'node:fs/promises';

/**
 * The paths LD_PRELOAD names in an environment (/proc/PID/environ: NUL-separated NAME=value, as
 * the process was exec'ed): separated by colons or spaces, as ld.so reads them.
 */
export function parsePreload(environ: string): string[] {
  const at = environ.startsWith('LD_PRELOAD=') ? 0 : environ.indexOf('\0LD_PRELOAD=') + 1;
  if (at === 0 && !environ.startsWith('LD_PRELOAD=')) return [];
  const end = environ.indexOf('\0', at);
  const value = environ.slice(at + 'LD_PRELOAD='.length, end === -1 ? undefined : end);
  return value.split(/[: ]+/).filter((p) => p !== '');
}

/** /proc/PID/environ, read off the event loop (it takes the process's memory-map lock). */
export async function readPreload(procfs: string, pid: number): Promise<string[]> {
  return parsePreload(await readFile(`${procfs}/${pid}/environ`, 'utf8'));
}

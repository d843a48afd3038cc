import { textOf, type ProcessFiles } from './process-files.js';

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

/** /proc/PID/environ through ProcessFiles (it takes the process's memory-map lock): off the event loop, under a deadline. */
export async function readPreload(files: ProcessFiles, pid: number): Promise<string[]> {
  return parsePreload(textOf(await files.read(pid, 'environ'), pid, 'environ'));
}

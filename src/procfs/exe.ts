import { readlinkSync } from 'node:fs';
import { problemOf, type ProcReadProblem } from './errors.js';

/** What /proc/PID/exe points at. */
export type ExeLink =
  | { readonly kind: 'path'; readonly path: string; readonly deleted: boolean }
  /** No executable: a kernel thread, or a zombie. */
  | { readonly kind: 'none' }
  | { readonly kind: 'unreadable'; readonly problem: ProcReadProblem };

const deletedSuffix = ' (deleted)';

/** Interpret the target of /proc/PID/exe; `(deleted)` means the file was removed or replaced after start. */
export function parseExeTarget(target: string): ExeLink {
  if (target.endsWith(deletedSuffix)) return { kind: 'path', path: target.slice(0, -deletedSuffix.length), deleted: true };
  return { kind: 'path', path: target, deleted: false };
}

export function readExe(procfs: string, pid: number): ExeLink {
  return readExeLink(`${procfs}/${pid}/exe`);
}

/** readExe for a link path the caller already holds (the process reader keeps one per process). */
export function readExeLink(link: string): ExeLink {
  try {
    return parseExeTarget(readlinkSync(link));
  } catch (error) {
    return exeLinkFromError(error);
  }
}

/** What a failed readlink of /proc/PID/exe means. */
export function exeLinkFromError(error: unknown): ExeLink {
  const problem = problemOf(error);
  // ENOENT on the link of a live process means it has no executable (kernel thread, zombie);
  // the caller tells that apart from an exited process by whether stat was readable.
  if (problem === 'gone') return { kind: 'none' };
  return { kind: 'unreadable', problem: problem ?? 'malformed' };
}

/**
 * How a read under /proc can fail. A process that exits while it is read is normal on a live host
 * (`gone`, counted as a race), not an error; `denied` means we lack the privilege to look.
 */
export type ProcReadProblem = 'gone' | 'denied' | 'malformed';

export function problemOf(error: unknown): ProcReadProblem | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') return 'gone';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return undefined;
}

/**
 * The problem behind a failed read of a process's files: what a reader counts (a race, missing
 * privileges, a malformed file) instead of failing. Anything else is a bug and is rethrown.
 */
export function readProblemOf(error: unknown): ProcReadProblem {
  if (error instanceof ProcParseError) return 'malformed';
  const problem = problemOf(error);
  if (problem) return problem;
  throw error;
}

/** Text under /proc that does not have the shape the kernel documents: a typed, located error. */
export class ProcParseError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ProcParseError';
  }
}

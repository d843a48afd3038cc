import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** /var/lib/hostguard as root; otherwise the user's XDG state directory. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return '/var/lib/hostguard';
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'hostguard');
}

export class StateDirError extends Error {
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(`state directory ${dir}: ${reason}`);
    this.name = 'StateDirError';
  }
}

/** Create the state directory if needed and prove it is writable, with an error an operator can act on. */
export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StateDirError(dir, `cannot create it (${describeErrno(error)}); choose another with --state.dir`);
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new StateDirError(dir, `not writable (${describeErrno(error)}); choose another with --state.dir or fix its owner`);
  }
}

export function describeErrno(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}` : String(error);
}

import { lstatSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { readProcText } from '../procfs/read-text.js';
import { parseStat } from '../procfs/stat.js';

/**
 * Lynis (3.x) writes its PID to a file when it starts and removes it when it ends, also on SIGTERM
 * and SIGINT. A cron-mode run quits at once ("another Lynis process is running") while a PID file
 * exists in any of the places it looks, whatever PID the file names: a run killed with SIGKILL (or
 * a machine that lost power) stops every later cron-mode run until someone removes the file.
 */

/** Where Lynis looks: the home directory, its working directory (ours: /) and /var/run. */
export function lynisPidFiles(home = homedir(), workingDirectory = '/'): string[] {
  return [...new Set([join(home, 'lynis.pid'), join(workingDirectory, 'lynis.pid'), '/var/run/lynis.pid'])];
}

/** The process a PID file names, as /proc shows it. */
export interface PidFileHolder {
  /** The state letter of /proc/PID/stat: Z for a zombie, an exited process not yet reaped. */
  readonly state: string;
  readonly argv: readonly string[];
}

export type PidFileVerdict =
  | { readonly kind: 'live_lynis'; readonly pid: number }
  | { readonly kind: 'stale'; readonly pid: number | undefined; readonly reason: string };

/**
 * A PID file is held by a live Lynis only when the PID it names is a process that is not a zombie
 * and runs the lynis script (`/bin/sh /usr/sbin/lynis audit system ...`); anything else (no PID, no
 * such process, a zombie, a PID reused by another program) is left over from a run that is gone.
 */
export function judgePidFile(content: string, holder: PidFileHolder | undefined): PidFileVerdict {
  const text = content.trim();
  if (!/^\d{1,10}$/.test(text)) return { kind: 'stale', pid: undefined, reason: 'no PID in it' };
  const pid = Number(text);
  if (!holder) return { kind: 'stale', pid, reason: 'no such process' };
  if (holder.state === 'Z' || holder.state === 'X') return { kind: 'stale', pid, reason: 'the process is a zombie: it has exited' };
  if (!runsLynis(holder.argv))
    return {
      kind: 'stale',
      pid,
      reason: `the PID now belongs to another program (${basename(holder.argv[0] ?? '') || 'no command line'})`,
    };
  return { kind: 'live_lynis', pid };
}

/** The script is argv[1] when the kernel runs it through its #! line, argv[0] when started as a program. */
function runsLynis(argv: readonly string[]): boolean {
  return argv.slice(0, 2).some((arg) => basename(arg) === 'lynis');
}

/** The process with this PID in our own /proc (Lynis runs in our PID namespace); undefined when there is none. */
export function readHolder(pid: number, procfs = '/proc'): PidFileHolder | undefined {
  try {
    const stat = parseStat(readProcText(`${procfs}/${pid}/stat`), `${procfs}/${pid}/stat`);
    const argv = readProcText(`${procfs}/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((arg) => arg !== '');
    return { state: stat.state, argv };
  } catch {
    return undefined;
  }
}

export interface PidFileFinding {
  readonly file: string;
  readonly verdict: PidFileVerdict;
}

/**
 * The Lynis PID files present now, each judged. Only regular files are read: a symlink there is
 * none of Lynis' doing (it refuses to run then), and is left for the operator with Lynis' own error.
 */
export function findLynisPidFiles(
  files: readonly string[] = lynisPidFiles(),
  holderOf: (pid: number) => PidFileHolder | undefined = readHolder,
): PidFileFinding[] {
  const found: PidFileFinding[] = [];
  for (const file of files) {
    let content: string;
    try {
      if (!lstatSync(file).isFile()) continue;
      content = readFileSync(file, 'utf8');
    } catch {
      continue; // none there
    }
    const pid = /^\s*(\d{1,10})\s*$/.exec(content)?.[1];
    found.push({ file, verdict: judgePidFile(content, pid === undefined ? undefined : holderOf(Number(pid))) });
  }
  return found;
}

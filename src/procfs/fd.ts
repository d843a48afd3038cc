import { readlink } from 'node:fs/promises';

/** What a descriptor of a process leads to (/proc/PID/fd/N): a path, `pipe:[123]`, `socket:[456]`. */
export async function readFdTarget(procfs: string, pid: number, fd: number): Promise<string> {
  return readlink(`${procfs}/${pid}/fd/${fd}`);
}

/** A terminal: what an interactive session reads from (`/dev/pts/0`, `/dev/tty1`, the console). */
export function isTerminal(target: string): boolean {
  return /^\/dev\/(pts\/\d+|tty\w*|console)$/.test(target);
}

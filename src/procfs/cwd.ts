import { readlink } from 'node:fs/promises';

/** The working directory of a process (/proc/PID/cwd): where its relative paths lead. */
export async function readCwd(procfs: string, pid: number): Promise<string> {
  return readlink(`${procfs}/${pid}/cwd`);
}

/** Where a process's root directory lies, as the reader sees it (/proc/PID/root): `/`, a chroot's path. */
export async function readRootLink(procfs: string, pid: number): Promise<string> {
  return readlink(`${procfs}/${pid}/root`);
}

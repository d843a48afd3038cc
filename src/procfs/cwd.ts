import { readlink } from 'node:fs/promises';

/** The working directory of a process (/proc/PID/cwd): where its relative paths lead. */
export async function readCwd(procfs: string, pid: number): Promise<string> {
  return readlink(`${procfs}/${pid}/cwd`);
}

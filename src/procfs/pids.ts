import { readdirSync } from 'node:fs';

/** The process ids listed by reading the procfs directory (what `ps` sees). */
export function listPids(procfs: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(procfs)) {
    const code = name.charCodeAt(0);
    if (code < 48 || code > 57) continue;
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

/** The thread ids of a process (/proc/PID/task), its own PID included; empty when it is gone or unreadable. */
export function listThreadIds(procfs: string, pid: number): number[] {
  let names: string[];
  try {
    names = readdirSync(`${procfs}/${pid}/task`);
  } catch {
    return [];
  }
  const tids: number[] = [];
  for (const name of names) {
    const tid = Number(name);
    if (Number.isInteger(tid) && tid > 0) tids.push(tid);
  }
  return tids;
}

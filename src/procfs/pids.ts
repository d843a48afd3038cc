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

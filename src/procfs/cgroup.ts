import { readFile } from 'node:fs/promises';
import { ProcParseError } from './errors.js';

/** One line of /proc/PID/cgroup (cgroups(7)): `hierarchy-ID:controllers:path`. */
export interface CgroupEntry {
  /** 0 for the unified (cgroup v2) hierarchy. */
  readonly hierarchy: number;
  /** `cpu,cpuacct`, `name=systemd`; '' in the unified hierarchy. */
  readonly controllers: string;
  /**
   * The cgroup, relative to the reading process's cgroup namespace root: from inside a container
   * with a cgroup namespace of its own, other cgroups show as `/../../kubepods.slice/...`.
   */
  readonly path: string;
}

export function parseCgroup(text: string, file = 'cgroup'): CgroupEntry[] {
  const entries: CgroupEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const first = line.indexOf(':');
    const second = first === -1 ? -1 : line.indexOf(':', first + 1);
    const hierarchy = Number(line.slice(0, first));
    // The path may itself contain colons: everything after the second one is the path.
    if (second === -1 || first === 0 || !Number.isInteger(hierarchy) || hierarchy < 0 || line[second + 1] !== '/') {
      throw new ProcParseError(`${file}:${i + 1}`, 'expected "HIERARCHY:CONTROLLERS:/PATH"');
    }
    entries.push({ hierarchy, controllers: line.slice(first + 1, second), path: line.slice(second + 1) });
  }
  return entries;
}

/** The cgroups of a process, /proc/PID/cgroup: readable for any process without privileges. */
export async function readCgroup(procfs: string, pid: number): Promise<CgroupEntry[]> {
  const file = `${procfs}/${pid}/cgroup`;
  return parseCgroup(await readFile(file, 'utf8'), file);
}

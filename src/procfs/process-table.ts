import { problemOf, ProcParseError, type ProcReadProblem } from './errors.js';
import { readExe, type ExeLink } from './exe.js';
import { listPids } from './pids.js';
import { clockTicksPerSecond, isKernelThread, parseStat } from './stat.js';
import { parseStatm, residentBytes } from './statm.js';
import { parseStatus } from './status.js';
import { readProcText } from './read-text.js';

/** One process as the collectors see it: identity, owner, executable and cost. */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly kernelThread: boolean;
  /** Start time in clock ticks after boot: (pid, startTicks) identifies a process across PID reuse. */
  readonly startTicks: number;
  readonly uid: number;
  readonly euid: number;
  readonly exe: ExeLink;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

export interface ProcessSnapshot {
  readonly at: Date;
  readonly processes: readonly ProcessInfo[];
  /** Processes that exited while being read: normal on a live host, counted, never findings. */
  readonly races: number;
  /** Processes whose files we may not read (not root): what is degraded without privileges. */
  readonly denied: number;
  /** Processes whose /proc files were malformed. */
  readonly malformed: number;
}

export type ProcessRead = { readonly ok: true; readonly process: ProcessInfo } | { readonly ok: false; readonly problem: ProcReadProblem };

/**
 * Read one process. Synchronous: thousands of tiny /proc reads are 4–6× faster without a promise
 * each. For the whole table on the scrape path, ProcessReader (process-reader.ts) adds caching and
 * yields to the event loop.
 */
export function readProcess(procfs: string, pid: number): ProcessRead {
  const dir = `${procfs}/${pid}`;
  try {
    const stat = parseStat(readProcText(`${dir}/stat`), `${dir}/stat`);
    const kernelThread = isKernelThread(stat);
    // Kernel threads have no memory of their own, as in ProcessReader.
    const residentPages = kernelThread ? 0 : parseStatm(readProcText(`${dir}/statm`), `${dir}/statm`).residentPages;
    const status = parseStatus(readProcText(`${dir}/status`, 'utf8'), `${dir}/status`);
    const exe: ExeLink = kernelThread ? { kind: 'none' } : readExe(procfs, pid);
    return {
      ok: true,
      process: {
        pid,
        ppid: stat.ppid,
        comm: stat.comm,
        kernelThread,
        startTicks: stat.startTicks,
        uid: status.uids[0],
        euid: status.uids[1],
        exe,
        cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / clockTicksPerSecond,
        rssBytes: residentBytes(residentPages),
      },
    };
  } catch (error) {
    if (error instanceof ProcParseError) return { ok: false, problem: 'malformed' };
    const problem = problemOf(error);
    if (problem) return { ok: false, problem };
    throw error;
  }
}

/** Every process on the host, read once. */
export function readProcessTable(procfs: string): ProcessSnapshot {
  const processes: ProcessInfo[] = [];
  let races = 0;
  let denied = 0;
  let malformed = 0;
  for (const pid of listPids(procfs)) {
    const read = readProcess(procfs, pid);
    if (read.ok) {
      processes.push(read.process);
      if (read.process.exe.kind === 'unreadable' && read.process.exe.problem === 'denied') denied++;
    } else if (read.problem === 'gone') races++;
    else if (read.problem === 'denied') denied++;
    else malformed++;
  }
  return { at: new Date(), processes, races, denied, malformed };
}

import { readProblemOf, type ProcReadProblem } from './errors.js';
import { readExe, type ExeLink } from './exe.js';
import { listPids } from './pids.js';
import { cpuSeconds, isKernelThread, parseStat } from './stat.js';
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
 * each. For the whole table on the scrape path, ProcessReader (process-reader.ts) reads the same
 * files with the same parsers, adding caching and yielding to the event loop.
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
        cpuSeconds: cpuSeconds(stat),
        rssBytes: residentBytes(residentPages),
      },
    };
  } catch (error) {
    return { ok: false, problem: readProblemOf(error) };
  }
}

/** Every process on the host, read once. */
export function readProcessTable(procfs: string): ProcessSnapshot {
  const processes: ProcessInfo[] = [];
  const tally = new ProblemTally();
  for (const pid of listPids(procfs)) {
    const read = readProcess(procfs, pid);
    if (read.ok) {
      processes.push(read.process);
      tally.read(read.process);
    } else tally.failed(read.problem);
  }
  return { at: new Date(), processes, races: tally.races, denied: tally.denied, malformed: tally.malformed };
}

/** What went wrong in one read of the table, counted as ProcessSnapshot reports it. */
export class ProblemTally {
  races = 0;
  denied = 0;
  malformed = 0;

  /** A process that was read: still a denial when its executable was hidden from us. */
  read(process: ProcessInfo): void {
    if (process.exe.kind === 'unreadable' && process.exe.problem === 'denied') this.denied++;
  }

  failed(problem: ProcReadProblem): void {
    if (problem === 'gone') this.races++;
    else if (problem === 'denied') this.denied++;
    else this.malformed++;
  }
}

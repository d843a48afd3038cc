import { execFile } from 'node:child_process';
import { readlinkSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { problemOf } from '../procfs/errors.js';
import { listPids, listThreadIds } from '../procfs/pids.js';
import { readProcText } from '../procfs/read-text.js';
import { Slicer } from '../scheduler/slicer.js';
import { parseStat } from '../procfs/stat.js';
import { parseStatus } from '../procfs/status.js';
import { confirmHidden, type HiddenProcess, type PidLook } from './hidden.js';

export interface SweepOptions {
  readonly procfs: string;
  /** PIDs 1 .. pidMax - 1 are probed. */
  readonly pidMax: number;
  readonly comparePs: boolean;
  /** Yield to the event loop after this much synchronous work (ms). */
  readonly sliceMs?: number;
}

export interface SweepResult {
  readonly at: Date;
  readonly durationSeconds: number;
  readonly hidden: readonly HiddenProcess[];
  /** PIDs that disagreed on the first pass and were looked at (transient processes, mostly). */
  readonly candidates: readonly number[];
  /** How existence was probed: the kill(2) syscall and a /proc lookup, or the lookup alone (a procfs of another PID namespace). */
  readonly probe: 'kill+lookup' | 'lookup';
  /** Whether `ps` was compared (off by policy, not the live procfs, or ps could not run). */
  readonly psCompared: boolean;
  readonly psProblem: string | undefined;
}

type Probe = (pid: number) => boolean;

/**
 * The hidden-process sweep: list /proc, probe every PID below pid_max, ask ps, and look again at
 * every PID that disagreed. Runs on a schedule, never on a scrape; yields to the event loop.
 */
export async function sweepHiddenProcesses(options: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const { procfs } = options;
  const live = isOwnProcfs(procfs);
  const probe: Probe = live ? (pid) => killProbe(pid) || lookupProbe(procfs, pid) : (pid) => lookupProbe(procfs, pid);
  const slicer = new Slicer(options.sliceMs ?? 5, 256);
  // Listing a task directory or looking at a PID costs far more than a probe: check the clock more often.
  const lookSlicer = new Slicer(options.sliceMs ?? 5, 16);

  const listedFirst = new Set(listPids(procfs));
  const threads = await threadsOf(procfs, listedFirst, lookSlicer);
  const candidates = new Set<number>();
  for (let pid = 1; pid < options.pidMax; pid++) {
    // A thread answers kill(2) and a /proc lookup but is not listed: it is no candidate.
    if (listedFirst.has(pid) ? !statExists(procfs, pid) && probe(pid) : !threads.has(pid) && probe(pid)) candidates.add(pid);
    const pause = slicer.due();
    if (pause) await pause;
  }

  let psFirst: Set<number> | undefined;
  let psProblem: string | undefined;
  const comparePs = options.comparePs && live;
  if (comparePs) {
    const ps = await runPs();
    if (ps.ok) {
      psFirst = ps.pids;
      for (const pid of listedFirst) if (!psFirst.has(pid) && statExists(procfs, pid)) candidates.add(pid);
    } else psProblem = ps.problem;
  }

  const firstLooks: PidLook[] = [];
  for (const pid of candidates) {
    firstLooks.push(look(procfs, pid, probe, listedFirst, psFirst));
    const pause = lookSlicer.due();
    if (pause) await pause;
  }
  const hidden: HiddenProcess[] = [];
  if (firstLooks.length > 0) {
    const listedSecond = new Set(listPids(procfs));
    const second = psFirst && firstLooks.some((l) => l.inPs === false) ? await runPs() : undefined;
    const psSecond = second?.ok ? second.pids : undefined;
    for (const first of firstLooks) {
      const confirmed = confirmHidden(first, look(procfs, first.pid, probe, listedSecond, psSecond));
      if (confirmed) hidden.push(confirmed);
      const pause = lookSlicer.due();
      if (pause) await pause;
    }
  }
  return {
    at: new Date(),
    durationSeconds: (performance.now() - started) / 1000,
    hidden,
    candidates: [...candidates],
    probe: live ? 'kill+lookup' : 'lookup',
    psCompared: psFirst !== undefined,
    psProblem: comparePs ? psProblem : undefined,
  };
}

/**
 * The ids of the threads (other than the leader) of the listed processes, from their task
 * directories: one listing per process instead of a status read per thread. A thread of a process
 * that is itself hidden is not here, since its process is not listed.
 */
async function threadsOf(procfs: string, listed: ReadonlySet<number>, slicer: Slicer): Promise<Set<number>> {
  const threads = new Set<number>();
  for (const pid of listed) {
    for (const tid of listThreadIds(procfs, pid)) if (tid !== pid) threads.add(tid);
    const pause = slicer.due();
    if (pause) await pause;
  }
  return threads;
}

/** Whether a PID is still the process a finding was about: alive, with the same start time when readable. */
export function stillAlive(procfs: string, hidden: Pick<HiddenProcess, 'pid' | 'startTicks'>): boolean {
  const { pid } = hidden;
  if (!((isOwnProcfs(procfs) && killProbe(pid)) || lookupProbe(procfs, pid))) return false;
  if (hidden.startTicks === undefined) return true;
  const now = startTicksOf(procfs, pid);
  // Unreadable now (masked, or gone this instant): the kernel still has the PID, so keep the finding.
  return now === undefined || now === hidden.startTicks;
}

function startTicksOf(procfs: string, pid: number): number | undefined {
  try {
    return parseStat(readProcText(`${procfs}/${pid}/stat`), `${procfs}/${pid}/stat`).startTicks;
  } catch {
    return undefined;
  }
}

function look(procfs: string, pid: number, probe: Probe, listed: ReadonlySet<number>, ps: ReadonlySet<number> | undefined): PidLook {
  const alive = probe(pid);
  let startTicks: number | undefined;
  let comm: string | undefined;
  let statReadable = false;
  try {
    const stat = parseStat(readProcText(`${procfs}/${pid}/stat`), `${procfs}/${pid}/stat`);
    startTicks = stat.startTicks;
    comm = stat.comm;
    statReadable = true;
  } catch {
    // gone, masked or garbled: statReadable stays false
  }
  let tgid: number | undefined;
  try {
    tgid = parseStatus(readProcText(`${procfs}/${pid}/status`, 'utf8'), `${procfs}/${pid}/status`).tgid;
  } catch {
    tgid = undefined;
  }
  return {
    pid,
    alive,
    listed: listed.has(pid),
    statReadable,
    tgid,
    tgidListed: tgid !== undefined && listed.has(tgid),
    startTicks,
    inPs: ps === undefined ? undefined : ps.has(pid),
    comm,
  };
}

/** kill(pid, 0) asks the kernel's task list directly: 0 or EPERM means the PID exists. */
function killProbe(pid: number): boolean {
  const limit = Error.stackTraceLimit;
  // Most PIDs do not exist: an ESRCH error per PID without a stack trace is several times cheaper.
  Error.stackTraceLimit = 0;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return problemOf(error) === 'denied';
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function lookupProbe(procfs: string, pid: number): boolean {
  return statSync(`${procfs}/${pid}`, { throwIfNoEntry: false }) !== undefined;
}

function statExists(procfs: string, pid: number): boolean {
  return statSync(`${procfs}/${pid}/stat`, { throwIfNoEntry: false }) !== undefined;
}

/** The procfs of our own PID namespace (so kill(2) and ps see the same PIDs it lists). */
export function isOwnProcfs(procfs: string): boolean {
  try {
    return readlinkSync(`${procfs}/self`) === String(process.pid);
  } catch {
    return false;
  }
}

type PsOutcome = { readonly ok: true; readonly pids: Set<number> } | { readonly ok: false; readonly problem: string };

/**
 * `ps -e -o pid=`, from PATH as an operator would run it. ps can hang on a process stalled in the
 * kernel (procps reads more of /proc than the columns asked for), and it catches SIGTERM, which then
 * does not wake it: a hung ps is ended with SIGKILL, which does.
 */
function runPs(): Promise<PsOutcome> {
  return new Promise((resolve) => {
    execFile('ps', ['-e', '-o', 'pid='], { timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return resolve({ ok: false, problem: error.message.split('\n')[0] ?? 'ps failed' });
      const pids = new Set<number>();
      for (const line of stdout.split('\n')) {
        const pid = Number(line.trim());
        if (line.trim() !== '' && Number.isInteger(pid)) pids.add(pid);
      }
      resolve({ ok: true, pids });
    });
  });
}

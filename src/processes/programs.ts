import { basename, isAbsolute } from 'node:path';
import type { PathMatcher } from '../match/glob.js';
import { readArguments } from '../procfs/cmdline.js';
import type { ProcessFiles } from '../procfs/process-files.js';
import { readCwd } from '../procfs/cwd.js';
import { isTerminal, readFdTarget } from '../procfs/fd.js';
import { firstMatch } from '../match/glob.js';
import { inContainer, type ExecutableFacts, type ObservedProcess } from './host-view.js';
import type { ProgramTarget } from './judge-programs.js';
import { hostRealPath } from './host-realpath.js';
import { factsOfNamedFile, statNamedFile } from './file-facts.js';
import type { PackageIndex } from './package-index.js';
import { isLoader, whatRuns, type RunTarget } from './what-runs.js';

/** What the running interpreters and loaders run: their programs (with the facts of those files) and inline code. */
export interface ProgramsView {
  readonly targets: ReadonlyMap<number, ProgramTarget>;
  readonly inline: ReadonlyMap<number, { readonly runner: string; readonly via: 'argument' | 'stdin' }>;
  /** Facts of each program file (packaged, world-writable), keyed by path, for judgeProgram. */
  readonly facts: ReadonlyMap<string, ExecutableFacts>;
}

interface Known {
  /** Start time and executable: a PID reused, or an exec, is read again. */
  readonly key: string;
  readonly target: RunTarget;
  /** Its inline code was counted (takeInline): once per process, whichever look read it first. */
  inlineCounted: boolean;
}

/**
 * Observation of what interpreters and loaders run, from /proc: the whole command line and working
 * directory of each such process, read once per process (by PID, start time and executable) through
 * ProcessFiles, since cmdline takes the process's memory-map lock. Other processes cost nothing.
 */
/**
 * The exporter's own children running its own scripts (its helper processes, `node
 * dist/isolated/helper.js`): they are the exporter itself, and run no program to judge.
 */
export interface OwnScripts {
  readonly pid: number;
  readonly scripts: ReadonlySet<string>;
}

export const noOwnScripts: OwnScripts = { pid: -1, scripts: new Set() };

/** Whether a process (its parent `ppid`) running `script` is one of the exporter's own helpers. */
export function isOwnScript(own: OwnScripts, ppid: number, script: string): boolean {
  return ppid === own.pid && own.scripts.has(script);
}

export class ProgramObserver {
  private known = new Map<number, Known>();
  /** runsCode by executable path, for the interpreters list it was decided with: most processes run what they ran at the last look. */
  private runsCodeOf = new Map<string, boolean>();
  private runsCodeFor: readonly PathMatcher[] | undefined;

  constructor(
    private readonly procfs: string,
    private readonly rootfs: string,
    private readonly files: ProcessFiles,
    private readonly own: OwnScripts = noOwnScripts,
  ) {}

  /**
   * What these processes run. `all`: they are every process (a collection), so the others are
   * forgotten; otherwise (new processes of the watch) they are added to what is known.
   */
  async observe(
    processes: readonly ObservedProcess[],
    interpreters: readonly PathMatcher[],
    index: PackageIndex,
    all = true,
  ): Promise<ProgramsView> {
    const next = all ? new Map<number, Known>() : this.known;
    const toRead: ObservedProcess[] = [];
    for (const p of processes) {
      if (p.kernelThread || p.exe.kind !== 'path' || !this.runsCode(p.exe.path, interpreters)) continue;
      const key = `${p.startedAt}:${p.exe.path}`;
      const known = this.known.get(p.pid);
      if (known && known.key === key) next.set(p.pid, known);
      else toRead.push(p);
    }
    for (let i = 0; i < toRead.length; i += 16) {
      const batch = toRead.slice(i, i + 16);
      const read = await Promise.all(batch.map((p) => this.read(p, interpreters)));
      batch.forEach((p, k) => {
        const target = read[k];
        if (!target) return;
        next.set(p.pid, { key: `${p.startedAt}:${p.exe.kind === 'path' ? p.exe.path : ''}`, target, inlineCounted: false });
      });
    }
    this.known = next;
    return this.view(processes, next, index);
  }

  /** runsCode, decided once per executable path and interpreters list (compiled once per policy). */
  private runsCode(exe: string, interpreters: readonly PathMatcher[]): boolean {
    if (this.runsCodeFor !== interpreters || this.runsCodeOf.size >= maxRunsCodeEntries) {
      this.runsCodeFor = interpreters;
      this.runsCodeOf = new Map();
    }
    let runs = this.runsCodeOf.get(exe);
    if (runs === undefined) this.runsCodeOf.set(exe, (runs = runsCode(exe, interpreters)));
    return runs;
  }

  /**
   * Whether the inline code of this process is still to be counted: true once per process (PID,
   * start, executable), also when a collection read it before the watch of starts looked at it.
   */
  takeInline(pid: number): boolean {
    const known = this.known.get(pid);
    if (!known || known.inlineCounted || known.target.kind !== 'inline') return false;
    known.inlineCounted = true;
    return true;
  }

  /** What one process runs; undefined when it exited while read. */
  private async read(p: ObservedProcess, interpreters: readonly PathMatcher[]): Promise<RunTarget | undefined> {
    const exe = p.exe.kind === 'path' ? p.exe.path : '';
    let args: string[];
    let cwd: string | undefined;
    try {
      [args, cwd] = await Promise.all([readArguments(this.files, p.pid), readCwd(this.procfs, p.pid).catch(() => undefined)]);
    } catch {
      return undefined;
    }
    // A process that rewrote its command line (setproctitle: `gunicorn: master [app]`) no longer says what it runs.
    if (args.length === 1 && args[0]!.includes(' ')) return { kind: 'none' };
    const target = whatRuns(exe, args, cwd, interpreters);
    if (target.kind === 'inline' && target.via === 'stdin') {
      const stdin = await readFdTarget(this.procfs, p.pid, 0).catch(() => undefined);
      // Reading a terminal is a session (a login shell, a REPL), not code piped in.
      if (stdin !== undefined && isTerminal(stdin)) return { kind: 'none' };
    }
    return target;
  }

  private view(processes: readonly ObservedProcess[], known: ReadonlyMap<number, Known>, index: PackageIndex): ProgramsView {
    const targets = new Map<number, ProgramTarget>();
    const inline = new Map<number, { runner: string; via: 'argument' | 'stdin' }>();
    const facts = new Map<string, ExecutableFacts>();
    for (const p of processes) {
      const target = known.get(p.pid)?.target;
      if (!target || target.kind === 'none') continue;
      if (target.kind === 'inline') {
        inline.set(p.pid, { runner: target.runner, via: target.via });
        continue;
      }
      const program = this.program(p, target, index, facts);
      if (program && !isOwnScript(this.own, p.ppid, program.path)) targets.set(p.pid, program);
    }
    return { targets, inline, facts };
  }

  /**
   * The program as a file of the host: a relative path is resolved against the process's directory
   * now, which may have changed since it started, so such a path is judged only when a file is
   * there. An absolute path that is gone is a deleted program. In a container, by path alone.
   */
  private program(
    p: ObservedProcess,
    target: Extract<RunTarget, { path: string }>,
    index: PackageIndex,
    facts: Map<string, ExecutableFacts>,
  ): ProgramTarget | undefined {
    if (!isAbsolute(target.path)) return undefined;
    if (inContainer(p)) return { kind: target.kind, runner: target.runner, path: target.path, deleted: false };
    const path = hostRealPath(this.rootfs, target.path);
    // On a file system that may stall the file is not looked at: not known to be gone.
    const deleted = statNamedFile(this.rootfs, path) === undefined;
    if (deleted && target.relative) return undefined;
    if (!facts.has(path)) facts.set(path, factsOfNamedFile(this.rootfs, path, deleted, index));
    return { kind: target.kind, runner: target.runner, path, deleted };
  }
}

/** Distinct executable paths remembered by ProgramObserver.runsCode before it starts afresh (memfd and deleted paths can be many). */
const maxRunsCodeEntries = 4096;

/** An interpreter of the policy's list, or the dynamic loader. */
export function runsCode(exe: string, interpreters: readonly PathMatcher[]): boolean {
  return isLoader(exe) || firstMatch(interpreters, basename(exe)) !== -1;
}

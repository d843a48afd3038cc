import { readPreload } from '../procfs/environ.js';
import { readExecutableMappings } from '../procfs/maps.js';
import type { ProcessFiles } from '../procfs/process-files.js';
import type { CodeView, ExecutableMapping } from './code-view.js';
import { inContainer, isMemfd, type ObservedProcess } from './host-view.js';
import { readRootLink } from '../procfs/cwd.js';
import { factsOfNamedFile } from './file-facts.js';
import type { PackageIndex } from './package-index.js';
import { ownCopy } from '../text/own-copy.js';

interface Inspected {
  readonly startedAt: number;
  readonly exe: string;
  readonly view: CodeView;
  /** The last call of current() that found the process running it. */
  round: number;
}

/** What one inspection read: processes looked at, and those that exited or could not be read meanwhile. */
export interface InspectionCounts {
  readonly inspected: number;
  readonly failed: number;
}

/**
 * Reads the executable mappings (/proc/PID/maps) and LD_PRELOAD (/proc/PID/environ) of processes,
 * for new processes and, on the sweep's schedule, for all: never every process at every scrape.
 * Keeps the last reading of each process for the collections in between; a process gone, or
 * exec'ed into another executable, is forgotten.
 */
export class CodeInspector {
  private readonly views = new Map<number, Inspected>();
  private round = 0;

  constructor(
    private readonly procfs: string,
    private readonly rootfs: string,
    private readonly files: ProcessFiles,
  ) {}

  /** Read these processes now (a few at a time: each read runs on libuv's pool, under ProcessFiles' deadline). */
  async inspect(
    processes: readonly ObservedProcess[],
    programOf: (pid: number) => string | undefined,
    index: PackageIndex,
  ): Promise<InspectionCounts> {
    let inspected = 0;
    let failed = 0;
    const wanted = processes.filter((p) => !p.kernelThread && p.exe.kind === 'path');
    for (let i = 0; i < wanted.length; i += 8) {
      const batch = wanted.slice(i, i + 8);
      const read = await Promise.all(batch.map((p) => this.read(p, programOf(p.pid), index)));
      batch.forEach((p, k) => {
        const view = read[k];
        if (!view || p.exe.kind !== 'path') {
          failed++;
          return;
        }
        inspected++;
        this.views.set(p.pid, { startedAt: p.startedAt, exe: p.exe.path, view, round: 0 });
      });
    }
    return { inspected, failed };
  }

  /**
   * Hands each of these processes (the running ones) with its reading, where one was made since it
   * started; forgets the others. The same CodeView object comes back until the process is read
   * again, so what is derived from it can be kept with it. Allocates nothing per process: it runs
   * at every collection.
   */
  current(processes: readonly ObservedProcess[], visit: (p: ObservedProcess, view: CodeView) => void): void {
    const round = ++this.round;
    for (let i = 0; i < processes.length; i++) {
      const p = processes[i]!;
      const inspected = this.views.get(p.pid);
      if (!inspected || p.exe.kind !== 'path') continue;
      if (inspected.exe !== p.exe.path || Math.abs(inspected.startedAt - p.startedAt) > 2) continue;
      inspected.round = round;
      visit(p, inspected.view);
    }
    this.views.forEach((inspected, pid) => {
      if (inspected.round !== round) this.views.delete(pid);
    });
  }

  private async read(p: ObservedProcess, program: string | undefined, index: PackageIndex): Promise<CodeView | undefined> {
    let mapped;
    try {
      mapped = await readExecutableMappings(this.files, p.pid);
    } catch {
      return undefined;
    }
    // environ may be denied where maps is not (another user's process without ptrace rights): the mappings still count.
    const preload = (await readPreload(this.files, p.pid).catch(() => [])).map(ownCopy);
    // Kept for the process's life: copies, not slices holding the whole maps text (3.5 KiB each).
    const mappings: ExecutableMapping[] = mapped.map((m) => ({
      path: ownCopy(m.path),
      deleted: m.deleted,
      facts: m.deleted && !isMemfd(m.path) ? factsOfNamedFile(this.rootfs, m.path, true, index) : undefined,
    }));
    const own = p.exe.kind === 'path' ? [p.exe.path] : [];
    if (program !== undefined) own.push(program);
    const containerRoot = inContainer(p) ? await readRootLink(this.procfs, p.pid).catch(() => '/') : undefined;
    return { pid: p.pid, startedAt: p.startedAt, ownFiles: own, mappings, preload, containerRoot };
  }
}

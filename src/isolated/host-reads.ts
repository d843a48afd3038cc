import type { Logger } from '../log/logger.js';
import { ProcessFiles } from '../procfs/process-files.js';
import { StuckReads } from '../procfs/stuck-reads.js';
import { IsolatedFs } from './isolated-fs.js';
import type { StatItem, StatOutcome } from './protocol.js';

/**
 * How long a read may go unanswered before its target is declared stuck: a quarter of
 * --collector.timeout (2.5 s by default), within 0.25–5 s. A collection waits for a stuck read at
 * most this long once, and never again while it stays stuck, so it still answers well within
 * --collector.timeout; a healthy read of /proc or a local disk takes microseconds.
 */
export function stallDeadlineMs(collectorTimeoutMs: number): number {
  return Math.min(5000, Math.max(250, Math.round(collectorTimeoutMs / 4)));
}

/**
 * Every read of the host that can wait on something the host does not control, and what is stuck
 * now. Built once per exporter and shared by its collectors:
 *
 * - `processFiles` for files of a process under /proc (ProcessFiles: the files that take its
 *   memory-map lock are read on libuv's threads under a deadline);
 * - `isolated` for calls on file systems that may stall (IsolatedFs: helper processes);
 * - `stuck`, what neither may touch until it answers again, for the metrics and the findings.
 */
export class HostReads {
  readonly stuck: StuckReads;
  readonly processFiles: ProcessFiles;
  readonly isolated: IsolatedFs;

  constructor(procfs: string, stallMs: number, log: Logger) {
    const readLog = log.with({ component: 'host_reads' });
    this.stuck = new StuckReads(readLog);
    this.processFiles = new ProcessFiles(procfs, this.stuck, { deadlineMs: stallMs });
    this.isolated = new IsolatedFs(this.stuck, readLog, { stallMs });
  }

  /**
   * Threads of this very process stuck in a read: Node.js joins its threads when it exits, so with
   * any here `process.exit()` would wait as long as the stall lasts (see src/cli/serve.ts).
   */
  get heldThreads(): number {
    return this.processFiles.heldThreads;
  }

  /** stat of paths on file systems that may stall, made by a helper process (the processes collector's executables). */
  statOffLoop(items: readonly StatItem[]): Promise<StatOutcome[]> {
    return this.isolated.stat(items);
  }

  /** Kill the helper processes; a stuck one is not waited for. */
  close(): void {
    this.isolated.close();
  }
}

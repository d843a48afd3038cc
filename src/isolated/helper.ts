import { lstatSync, readlinkSync, statSync, writeSync } from 'node:fs';
import { decodeName, fsPath } from '../integrity/fs-names.js';
import { performance } from 'node:perf_hooks';
import { stateFromStats } from '../integrity/file-state.js';
import { hashFile } from '../integrity/hash-worker.js';
import { listRunningImages } from '../integrity/running-images.js';
import { newWalkTrouble, walkWatched } from '../integrity/walk.js';
import { compileWatchScope } from '../integrity/watch-scope.js';
import { readOwnMounts, type MountTable } from '../procfs/mounts.js';
import type { Relisted, WalkedPath } from '../integrity/scan-fs.js';
import { progressFd, type Progress, type Request, type Response, type Skips, type StatOutcome } from './protocol.js';

/**
 * A helper process of the exporter: it makes the file-system calls that a stalled file system (a
 * FUSE server that stops answering, a dead NFS server) may never answer — walking and hashing the
 * watched paths, stat'ing executables and process roots that lie on such file systems. A call
 * stuck in the kernel stops this process only: the exporter notices it from the progress pipe,
 * kills it (it dies when the call returns, if ever) and goes on without what it was touching.
 *
 * Requests are served one at a time, synchronously: this process has nothing else to do.
 */

const heartbeatMs = 100;
const parent = process.ppid;

class Progressor {
  private last: string | undefined;
  private lastAt = 0;

  constructor(private readonly mounts: MountTable) {}

  /** About to touch a host path: say which mount answers it (when it changed), or a heartbeat. */
  path(hostPath: string): void {
    this.emit({ mount: this.mounts.mountOf(hostPath)?.mountPoint ?? '/' });
  }

  /** About to stat a process's root. */
  pid(pid: number): void {
    this.emit({ pid });
  }

  /** Still working (a chunk of a large file). */
  tick(): void {
    const now = performance.now();
    if (now - this.lastAt >= heartbeatMs) this.write('{}', now);
  }

  private emit(progress: Progress): void {
    const line = JSON.stringify(progress);
    const now = performance.now();
    if (line !== this.last || now - this.lastAt >= heartbeatMs) this.write(line, now);
    this.last = line;
  }

  private write(line: string, now: number): void {
    this.lastAt = now;
    // The exporter is gone (a finished command, a crash): a request as long as hashing a huge file
    // must not outlive it. The disconnect event would only be seen once the request is done.
    if (process.ppid !== parent) process.exit(0);
    // Synchronous: the line must be out before the call that may never return.
    writeSync(progressFd, `${line}\n`);
  }
}

function skipper(mounts: MountTable, skips: Skips) {
  const stuck = new Set(skips.skipMounts);
  const pids = new Set(skips.skipPids);
  return {
    path: (hostPath: string) => stuck.size > 0 && stuck.has(mounts.mountOf(hostPath)?.mountPoint ?? '/'),
    pid: (pid: number) => pids.has(pid),
  };
}

function serve(request: Request): unknown {
  const mounts = readOwnMounts('/proc');
  const progress = new Progressor(mounts);
  const skip = skipper(mounts, request);
  switch (request.op) {
    case 'stat':
      return request.items.map((item): StatOutcome => {
        if (skip.path(item.path)) return { ok: false, code: 'STUCK' };
        progress.path(item.path);
        try {
          const s = item.follow ? statSync(item.path, { bigint: true }) : lstatSync(item.path, { bigint: true });
          return {
            ok: true,
            stat: {
              dev: String(s.dev),
              ino: String(s.ino),
              mode: Number(s.mode),
              size: Number(s.size),
              ctimeMs: Number(s.ctimeNs / 1_000_000n),
            },
          };
        } catch (error) {
          return { ok: false, code: (error as NodeJS.ErrnoException).code ?? 'EIO' };
        }
      });
    case 'relist':
      return request.paths.map((path): Relisted => {
        if (skip.path(path)) return { stuck: true };
        progress.path(path);
        try {
          const stats = lstatSync(fsPath(path), { bigint: true });
          const state = stateFromStats(stats);
          return {
            state: stats.isSymbolicLink() ? { ...state, target: decodeName(readlinkSync(fsPath(path), { encoding: 'buffer' })) } : state,
          };
        } catch {
          return undefined;
        }
      });
    case 'walk': {
      const { rootfs, paths, exclude, maxPaths } = request.walk;
      const entries: WalkedPath[] = [];
      const trouble = newWalkTrouble();
      walkWatched(
        rootfs,
        compileWatchScope(paths, exclude),
        trouble,
        (entry) => {
          const state = stateFromStats(entry.stats);
          entries.push({ path: entry.path, state: entry.target === undefined ? state : { ...state, target: entry.target } });
        },
        maxPaths,
        { touch: (p) => progress.path(p), skip: skip.path },
      );
      return { entries, trouble };
    }
    case 'runningImages':
      return listRunningImages(request.running.procfs, request.running.rootfs, {
        touchPath: (p) => progress.path(p),
        touchPid: (pid) => progress.pid(pid),
        skipPath: skip.path,
        skipPid: skip.pid,
      });
    case 'hash':
      return request.jobs.map((job) => {
        const from = job.readsFrom ?? job.file;
        if (skip.path(from)) return { bytes: 0, problem: 'stuck', detail: 'its file system does not answer' };
        progress.path(from);
        return hashFile(job, () => progress.tick());
      });
  }
}

// Ready: until this line, the exporter does not count the time a request waits (a helper may take
// a while to start on a loaded host, and starting is no sign of a stalled file system).
writeSync(progressFd, '{"ready":true}\n');

process.on('message', (request: Request) => {
  // Which request the progress lines that follow belong to (see HelperProcess.begun).
  writeSync(progressFd, `{"request":${request.id}}\n`);
  let response: Response;
  try {
    response = { id: request.id, ok: true, result: serve(request) };
  } catch (error) {
    response = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  process.send?.(response);
});
// The exporter is gone (stopped, or killed): nothing is left to do.
process.on('disconnect', () => process.exit(0));

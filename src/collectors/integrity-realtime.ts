import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { ChangeQueue, defaultChangeQueueOptions, systemTimers, type ChangeQueueOptions, type Timers } from '../integrity/change-queue.js';
import { DirectoryWatcher, watchFailureReasons } from '../integrity/directory-watcher.js';
import type { FileState } from '../integrity/file-state.js';
import { fsPath } from '../integrity/fs-names.js';
import type { Observation } from '../integrity/scan.js';
import { coveringTargets, meaningOf, planWatches } from '../integrity/watch-plan.js';
import type { WatchScope } from '../integrity/watch-scope.js';
import type { Logger } from '../log/logger.js';
import { ownMountsIfReadable } from '../procfs/mounts.js';
import { integrityWatchMetricSpecs as specs, watchRescanReasons } from '../metrics/integrity-watch.js';
import { registerCounter, registerGauge, registerHistogram } from '../metrics/spec.js';
import type { CollectorEnv } from './collector.js';

/** What the watch asks of the integrity collector: rescans, run one at a time with its scans. */
export interface RescanRunner {
  /**
   * Read these paths (or globs) again and merge them into the last observation; or, when the
   * accounts changed what is watched, scan the whole watched set (`accounts`).
   */
  rescan(targets: readonly string[]): Promise<'changes' | 'accounts'>;
  /** A fast-path scan of the whole watched set. */
  scanAll(): Promise<void>;
  /** Whether a file system (a mount, or a process's root) is still held stuck: its paths are skipped. */
  stallHeld(): boolean;
}

/** How often the watch asks whether a stall that made a scan skip paths has ended. */
const stallPollMs = 1000;

/** dpkg's database: its `status` is rewritten at every step of a run. */
const dpkgDirectory = '/var/lib/dpkg';

/**
 * The watch's metrics, registered with the collector so that `check` and a serve without the
 * watch expose them too (at 0).
 */
export class WatchMetrics {
  readonly enabled: Gauge;
  readonly directories: Gauge;
  readonly unwatched: Gauge<'reason'>;
  readonly unwatchedDirectory;
  readonly events: Counter;
  readonly changedPaths: Counter;
  readonly rescans: Counter<'reason'>;
  readonly overflows: Counter;
  readonly latency: Histogram;

  constructor(env: CollectorEnv) {
    const r = env.registry;
    this.enabled = registerGauge(r, specs.enabled);
    this.directories = registerGauge(r, specs.directories);
    this.unwatched = registerGauge(r, specs.unwatched);
    this.unwatchedDirectory = env.cappedSeries(specs.unwatchedDirectory);
    this.events = registerCounter(r, specs.events);
    this.changedPaths = registerCounter(r, specs.changedPaths);
    this.rescans = registerCounter(r, specs.rescans);
    this.overflows = registerCounter(r, specs.overflows);
    this.latency = registerHistogram(r, specs.latency);
    this.enabled.set(0);
    this.directories.set(0);
    for (const reason of watchFailureReasons) this.unwatched.set({ reason }, 0);
    this.events.inc(0);
    this.changedPaths.inc(0);
    for (const reason of watchRescanReasons) this.rescans.inc({ reason }, 0);
    this.overflows.inc(0);
  }
}

/**
 * The real-time watch of the integrity collector (`serve`, integrity.realtime): inotify watches
 * planned from each observation (watch-plan.ts), events turned into paths to read again, batches
 * coalesced (change-queue.ts) and handed to the collector as rescans. The scheduled scan stays
 * the backstop for what a watch cannot see (a directory over the watch limit, a change through a
 * hard link elsewhere, a new glob match below a directory that did not exist).
 */
export class RealtimeWatch {
  private readonly watcher: DirectoryWatcher;
  private readonly queue: ChangeQueue;
  private scope: WatchScope | undefined;
  private draining = false;
  private stopped = false;
  private failuresLogged = '';
  /** A scan skipped paths on a stuck file system: the watch waits for the stall to end, then scans everything. */
  private stallTimer: unknown;

  constructor(
    private readonly rootfs: string,
    private readonly procfs: string,
    private readonly watchPackages: () => boolean,
    private readonly runner: RescanRunner,
    private readonly metrics: WatchMetrics,
    private readonly log: Logger,
    private readonly timers: Timers = systemTimers,
    options: ChangeQueueOptions = defaultChangeQueueOptions,
  ) {
    this.watcher = new DirectoryWatcher(rootfs, procfs, {
      onEvent: (dir, name) => this.received(dir, name),
      onOverflow: (events) => this.overflowed(events),
    });
    this.queue = new ChangeQueue(options, timers, () => this.drain());
    metrics.enabled.set(1);
  }

  /**
   * Watch what the baseline holds before the first scan lists it, so nothing changed between that
   * listing and the watches being added goes unseen.
   */
  prime(scope: WatchScope, directories: Iterable<string>): void {
    const files = new Map<string, FileState>();
    const directory = { type: 'directory' } as FileState;
    for (const dir of directories) files.set(dir, directory);
    this.plan(scope, files);
  }

  /** After every scan and rescan: watch what it saw; what got a new watch now is read again. */
  observed(observation: Observation): void {
    if (this.stopped) return;
    // What lay on a stuck file system was not read, and no event will say when it answers again.
    if (observation.problems.stuck > 0) this.awaitStallEnd();
    const added = this.plan(observation.scope, observation.files);
    const targets = added.flatMap((dir) => {
      const meaning = meaningOf(observation.scope, dir);
      return meaning.kind === 'ignored' ? [] : meaning.targets;
    });
    this.queue.add(targets);
  }

  stop(): void {
    this.stopped = true;
    if (this.stallTimer !== undefined) this.timers.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.queue.stop();
    this.watcher.close();
    this.metrics.enabled.set(0);
  }

  private plan(scope: WatchScope, files: ReadonlyMap<string, FileState>): string[] {
    this.scope = scope;
    // Not on a file system that may stall (FUSE, NFS, ...): adding a watch looks the path up in the
    // event loop, which such a mount may never answer, and inotify sees only this host's changes
    // there anyway. The scheduled scans, off the event loop, read them; the watch covers the
    // nearest local directory above.
    const mounts = ownMountsIfReadable(this.procfs); // unreadable: every path counts as local
    const local = (path: string) => mounts === undefined || !mounts.mayStall(this.onHost(path));
    const plan = planWatches(scope, files, (path) => local(path) && this.isDirectory(path));
    const directories = new Set([...plan.directories].filter(local));
    if (this.watchPackages()) directories.add(dpkgDirectory);
    const added = this.watcher.sync(directories);
    this.recordWatches();
    return added.filter((dir) => dir !== dpkgDirectory);
  }

  private received(dir: string, name: string | undefined): void {
    this.metrics.events.inc();
    const scope = this.scope;
    if (!scope || this.stopped) return;
    if (dir === dpkgDirectory) {
      if (name === 'status') this.queue.packageManagerActive();
      if (!scope.roots.some((r) => r === dpkgDirectory || r.startsWith(`${dpkgDirectory}/`))) return;
    }
    const child = name === undefined ? dir : dir === '/' ? `/${name}` : `${dir}/${name}`;
    // libuv names an event about the watched directory itself by the directory's own name: both are meant.
    const paths = name === undefined || name === basename(dir) ? [child, dir] : [child];
    for (const path of paths) {
      const meaning = meaningOf(scope, path);
      if (meaning.kind !== 'ignored') this.queue.add(meaning.targets);
    }
  }

  private awaitStallEnd(): void {
    if (this.stallTimer !== undefined) return;
    const poll = () => {
      this.stallTimer = undefined;
      if (this.stopped) return;
      if (this.runner.stallHeld()) {
        this.stallTimer = this.timers.setTimeout(poll, stallPollMs);
        return;
      }
      this.log.info('integrity watch: the stuck file system answers again; scanning everything now');
      this.queue.wholeNow('stall_ended');
    };
    this.stallTimer = this.timers.setTimeout(poll, stallPollMs);
  }

  private overflowed(events: number): void {
    this.metrics.overflows.inc();
    this.log.warn('integrity watch: the inotify queue may have overflowed; scanning everything now', {
      events,
      threshold: this.watcher.overflowThreshold,
    });
    this.queue.wholeNow('overflow');
  }

  /** Rescan batch after batch, one at a time; changes arriving meanwhile wait for the next. */
  private drain(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    void (async () => {
      try {
        for (let batch = this.queue.take(); batch && !this.stopped; batch = this.queue.take()) {
          if (batch.kind === 'whole') {
            this.metrics.rescans.inc({ reason: batch.reason });
            await this.runner.scanAll();
          } else {
            const targets = coveringTargets(batch.targets);
            this.metrics.changedPaths.inc(targets.length);
            this.metrics.rescans.inc({ reason: await this.runner.rescan(targets) });
          }
          this.metrics.latency.observe((this.timers.now() - batch.firstAt) / 1000);
        }
      } catch (error) {
        if (!this.stopped)
          this.log.warn('integrity watch: a rescan failed; the scheduled scan will look again', {
            err: error instanceof Error ? error.message : String(error),
          });
      } finally {
        this.draining = false;
        // A batch that became due while the last rescan ran.
        if (this.queue.pending > 0 && !this.stopped) this.drain();
      }
    })();
  }

  private recordWatches(): void {
    this.metrics.directories.set(this.watcher.watched);
    const failed = [...this.watcher.failed];
    const summary = failed.map(([path, f]) => `${path} (${f.code})`).join(', ');
    if (summary === this.failuresLogged) return;
    this.failuresLogged = summary;
    for (const reason of watchFailureReasons) this.metrics.unwatched.set({ reason }, failed.filter(([, f]) => f.reason === reason).length);
    this.metrics.unwatchedDirectory.replace(failed.map(([path, f]) => ({ labels: { path, reason: f.reason }, value: 1 })));
    if (failed.length > 0) {
      const limit = failed.some(([, f]) => f.reason === 'limit');
      this.log.warn('integrity watch: directories not watched; changes in them are seen by the scheduled scan only', {
        count: failed.length,
        directories: failed
          .slice(0, 20)
          .map(([path, f]) => `${path} (${f.code})`)
          .join(', '),
        ...(limit && { hint: 'raise fs.inotify.max_user_watches (sysctl)' }),
      });
    } else this.log.info('integrity watch: every planned directory is watched', { directories: this.watcher.watched });
  }

  private onHost(path: string): string {
    return this.rootfs === '/' ? path : join(this.rootfs, path);
  }

  private isDirectory(path: string): boolean {
    try {
      return lstatSync(fsPath(this.onHost(path))).isDirectory();
    } catch {
      return false;
    }
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

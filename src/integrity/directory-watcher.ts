import { lstatSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { decodeName, fsPath } from './fs-names.js';

/**
 * inotify watches on directories, through Node's `fs.watch` (libuv). Why not a package: chokidar
 * is `fs.watch` plus features we do not use, and @parcel/watcher watches whole trees recursively
 * (every directory under /etc to see /etc/passwd) from a native addon; both drop IN_Q_OVERFLOW
 * exactly as libuv does. `fs.watch` on one directory at a time is one inotify watch each, with no
 * dependency, and the rest (what an event means, coalescing, overflow) is ours.
 *
 * Overflow: libuv reads the inotify queue until it is empty in one callback, then the loop moves
 * on, and it drops the IN_Q_OVERFLOW event (its watch descriptor, -1, names no watch). The kernel
 * queues at most fs.inotify.max_queued_events events. So the events of one read (counted until
 * the next turn of the event loop) tell how full the queue was: at half the limit or more, events
 * may have been lost (the other half leaves room for other watchers in this process sharing the
 * queue) and `onOverflow` is called: the caller scans everything at once.
 */
export const watchFailureReasons = ['limit', 'denied', 'error'] as const;
export type WatchFailureReason = (typeof watchFailureReasons)[number];

export interface WatchFailure {
  readonly reason: WatchFailureReason;
  readonly code: string;
}

export interface DirectoryEvents {
  /** `name` is the entry the event is about; libuv gives the directory's own name for events about the directory itself. */
  onEvent(dir: string, name: string | undefined, type: 'change' | 'rename'): void;
  /** One read of the queue held `events` events: the kernel may have dropped some. */
  onOverflow(events: number): void;
}

interface Watch {
  readonly watcher: FSWatcher;
  /** device:inode of the directory when the watch was added: a directory replaced by a rename has another. */
  readonly identity: string;
}

const defaultMaxQueuedEvents = 16384;

export class DirectoryWatcher {
  private readonly watches = new Map<string, Watch>();
  private readonly failures = new Map<string, WatchFailure>();
  private readBurst = 0;
  private burstCheckPending = false;
  private closed = false;
  /** Events in one read of the queue from which events may have been lost. */
  readonly overflowThreshold: number;

  constructor(
    private readonly rootfs: string,
    procfs: string,
    private readonly events: DirectoryEvents,
  ) {
    this.overflowThreshold = Math.max(1, Math.floor(maxQueuedEvents(procfs) / 2));
  }

  get watched(): number {
    return this.watches.size;
  }

  /** Directories that should be watched and are not, with why. */
  get failed(): ReadonlyMap<string, WatchFailure> {
    return this.failures;
  }

  /**
   * Watch exactly these directories (host paths). A directory watched already keeps its watch
   * unless it was replaced (another device:inode); one that no longer exists loses it. Returns the
   * directories that got a new watch: what changed in them before the watch was added is unseen,
   * so the caller reads them again.
   */
  sync(directories: ReadonlySet<string>): string[] {
    const added: string[] = [];
    for (const [dir, watch] of this.watches) {
      if (!directories.has(dir)) this.unwatch(dir, watch);
    }
    for (const dir of this.failures.keys()) if (!directories.has(dir)) this.failures.delete(dir);
    for (const dir of directories) {
      const identity = this.identityOf(dir);
      const current = this.watches.get(dir);
      if (current && current.identity === identity) continue;
      if (current) this.unwatch(dir, current);
      if (identity === undefined) {
        this.failures.delete(dir); // gone: its nearest existing ancestor is watched instead
        continue;
      }
      if (this.watchOne(dir, identity)) added.push(dir);
    }
    return added;
  }

  close(): void {
    this.closed = true;
    for (const [dir, watch] of this.watches) this.unwatch(dir, watch);
    this.failures.clear();
  }

  private watchOne(dir: string, identity: string): boolean {
    let watcher: FSWatcher;
    try {
      watcher = watch(fsPath(this.onHost(dir)), { persistent: false, encoding: 'buffer' }, (type, name) => this.received(dir, type, name));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.failures.set(dir, { reason: failureReason(code), code });
      return false;
    }
    watcher.on('error', (error: NodeJS.ErrnoException) => {
      const watch = this.watches.get(dir);
      if (watch?.watcher === watcher) this.unwatch(dir, watch);
      this.failures.set(dir, { reason: 'error', code: error.code ?? 'error' });
    });
    this.watches.set(dir, { watcher, identity });
    this.failures.delete(dir);
    return true;
  }

  private unwatch(dir: string, watch: Watch): void {
    watch.watcher.close();
    this.watches.delete(dir);
  }

  private received(dir: string, type: string, name: Buffer | string | null): void {
    if (this.closed) return;
    this.countRead();
    const entry = name === null ? undefined : typeof name === 'string' ? name : decodeName(name);
    this.events.onEvent(dir, entry, type === 'change' ? 'change' : 'rename');
  }

  /** Every event of one read of the queue arrives before the loop's next check phase. */
  private countRead(): void {
    this.readBurst++;
    if (this.burstCheckPending) return;
    this.burstCheckPending = true;
    setImmediate(() => {
      const events = this.readBurst;
      this.readBurst = 0;
      this.burstCheckPending = false;
      if (events >= this.overflowThreshold && !this.closed) this.events.onOverflow(events);
    });
  }

  private identityOf(dir: string): string | undefined {
    try {
      const stats = lstatSync(fsPath(this.onHost(dir)), { bigint: true });
      return stats.isDirectory() ? `${stats.dev}:${stats.ino}` : undefined;
    } catch {
      return undefined;
    }
  }

  private onHost(path: string): string {
    return this.rootfs === '/' ? path : join(this.rootfs, path);
  }
}

function failureReason(code: string): WatchFailureReason {
  // inotify_add_watch: ENOSPC when fs.inotify.max_user_watches is reached (libuv reports it as is).
  if (code === 'ENOSPC' || code === 'EMFILE') return 'limit';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'error';
}

/** fs.inotify.max_user_watches' sibling: how many events one inotify queue holds. */
function maxQueuedEvents(procfs: string): number {
  try {
    const value = Number(readFileSync(`${procfs}/sys/fs/inotify/max_queued_events`, 'latin1').trim());
    return Number.isInteger(value) && value > 0 ? value : defaultMaxQueuedEvents;
  } catch {
    return defaultMaxQueuedEvents;
  }
}

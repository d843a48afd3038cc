import { statSync } from 'node:fs';
import type { HashJob, HashResult, StatKey } from '../integrity/hash-protocol.js';

/** What is known of the image a /proc/PID/exe link leads to. */
export type ImageHash =
  | { readonly state: 'hashed'; readonly sha256: string }
  /** Queued or being hashed: known at a later collection. */
  | { readonly state: 'pending' }
  /** Could not be read (permissions, I/O); tried again when the image changes. */
  | { readonly state: 'unreadable' }
  /** The process exited: there is no image to speak of. */
  | { readonly state: 'gone' };

/** Hashes a batch of jobs; the real one is a HashPool created for the batch and closed after it. */
export type BatchHasher = (jobs: readonly HashJob[], sizes: readonly number[]) => Promise<readonly HashResult[]>;

type Entry =
  | { readonly state: 'hashed'; readonly sha256: string }
  | { readonly state: 'unreadable' }
  | { readonly state: 'pending'; readonly job: HashJob; readonly size: number };

/** Images remembered beyond the ones in use: enough for a host's flagged images to come and go without rehashing. */
const defaultRetained = 2048;

/**
 * SHA-256 of flagged executable images, for the fleet facts. An image is known by the stat of
 * /proc/PID/exe (device, inode, size, mtime, ctime: what changes when the file is written or
 * replaced), so one stat per flagged image and collection finds a hash already made, and an image
 * is hashed once however many processes run it and however often it is scraped. New images are
 * hashed after the collection, in a worker thread (the integrity scan's hash pool), never on the
 * scrape path: their facts appear at a later collection. Only `serve` hashes (`start`); `check`
 * and `baseline` expose no metrics and leave the images pending.
 */
export class ImageHashes {
  private readonly entries = new Map<string, Entry>();
  private running: Promise<void> | undefined;
  private hashing = false;

  constructor(
    private readonly hashBatch: BatchHasher,
    private readonly retained = defaultRetained,
    /** Whether stat'ing this /proc/PID/exe may wait on a stalled file system: such an image is left unread. */
    private readonly mayStall: (procExe: string) => boolean = () => false,
  ) {}

  /** Hash what is pending, now and after every later lookup that finds a new image. */
  start(): void {
    this.hashing = true;
    this.flush();
  }

  /** The hash of the image that `procExe` (a /proc/PID/exe link) leads to, or why it is not known. */
  lookup(procExe: string): ImageHash {
    let key: string;
    let stat: StatKey;
    if (this.mayStall(procExe)) return { state: 'unreadable' };
    try {
      const s = statSync(procExe, { bigint: true });
      if (!s.isFile()) return { state: 'unreadable' };
      stat = { size: Number(s.size), inode: String(s.ino), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
      key = `${s.dev}:${stat.inode}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR' ? { state: 'gone' } : { state: 'unreadable' };
    }
    const entry = this.entries.get(key);
    if (entry) {
      // Most recently used last: the oldest unused images are forgotten first.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.state === 'hashed' ? { state: 'hashed', sha256: entry.sha256 } : { state: entry.state };
    }
    this.entries.set(key, {
      state: 'pending',
      job: { file: procExe, expect: stat, follow: true, sha256: true, md5: false },
      size: stat.size,
    });
    this.forgetOldest();
    return { state: 'pending' };
  }

  /** Start hashing the pending images in the background, unless a batch runs or hashing has not started. */
  flush(): void {
    if (!this.hashing || this.running) return;
    const batch = [...this.entries].filter((e): e is [string, Extract<Entry, { state: 'pending' }>] => e[1].state === 'pending');
    if (batch.length === 0) return;
    this.running = this.hash(batch).finally(() => {
      this.running = undefined;
      // Images that turned up while this batch ran.
      this.flush();
    });
  }

  /** Resolves once no batch is running (tests, and stop). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.hashing = false;
    await this.settled();
  }

  get size(): number {
    return this.entries.size;
  }

  private async hash(batch: ReadonlyArray<[string, Extract<Entry, { state: 'pending' }>]>): Promise<void> {
    let results: readonly HashResult[];
    try {
      results = await this.hashBatch(
        batch.map(([, e]) => e.job),
        batch.map(([, e]) => e.size),
      );
    } catch {
      // The pool failed as a whole (a worker died): drop the batch, the next lookups queue it again.
      for (const [key] of batch) if (this.entries.get(key)?.state === 'pending') this.entries.delete(key);
      return;
    }
    batch.forEach(([key], i) => {
      if (!this.entries.has(key)) return;
      const result = results[i];
      if (result?.sha256) this.entries.set(key, { state: 'hashed', sha256: result.sha256 });
      else if (result?.problem === 'unreadable') this.entries.set(key, { state: 'unreadable' });
      // Vanished, replaced or changed while read: forget it; if it is still there, the next lookup queues it again.
      else this.entries.delete(key);
    });
  }

  private forgetOldest(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.retained) return;
      if (entry.state !== 'pending') this.entries.delete(key);
    }
  }
}

import type { Logger } from '../log/logger.js';

/**
 * What a stuck read was reading. `process_memory`: a per-process file whose read takes the
 * target's memory-map lock (cmdline, environ, maps, smaps), held by a thread of that process that
 * waits on a stalled file system. `file_system`: a stat, listing or read on a mount (a watched
 * path, an executable's file, a process's root) that the file system does not answer.
 */
export const stuckReadKinds = ['process_memory', 'file_system'] as const;
export type StuckReadKind = (typeof stuckReadKinds)[number];

/** What is stuck: one process, or one mount (or one process's root, when its mount is not ours to see). */
export type StuckTarget =
  | { readonly kind: 'process_memory'; readonly pid: number }
  | { readonly kind: 'file_system'; readonly mount: string }
  | { readonly kind: 'file_system'; readonly pid: number };

export interface StuckRead {
  readonly target: StuckTarget;
  /** The file or operation that did not return (`/proc/4242/cmdline`, `lstat /mnt/x/bin`). */
  readonly what: string;
  /** When it was declared stuck (ms, the registry's clock). */
  readonly since: number;
}

/** The key one target is known by: one outstanding read per key, never more. */
export function stuckKey(target: StuckTarget): string {
  return 'mount' in target ? `mount:${target.mount}` : `${target.kind}:${target.pid}`;
}

/** `pid=4242` or `mount=/mnt/x`, for the log. */
function targetFields(target: StuckTarget): Record<string, string | number> {
  return 'mount' in target ? { kind: target.kind, mount: target.mount } : { kind: target.kind, pid: target.pid };
}

/**
 * Reads that passed their deadline and have not returned, one per target. A target stays here until
 * its read returns (the stall ended): meanwhile every reader skips it instead of queuing another
 * read behind the stuck one, so a stalled file system costs one thread or one helper process, never
 * more. Shared by every collector of an exporter; the metrics and the log read it.
 */
export class StuckReads {
  private readonly current = new Map<string, StuckRead>();
  private readonly declared: Record<StuckReadKind, number> = { process_memory: 0, file_system: 0 };

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  isStuck(target: StuckTarget): boolean {
    return this.current.has(stuckKey(target));
  }

  /**
   * `target`'s read passed its deadline: skip the target until `settled` resolves (the read came
   * back), after at least `holdMs` (a probe that was killed at once says nothing about the stall).
   */
  declare(target: StuckTarget, what: string, settled: Promise<unknown>, holdMs = 0): void {
    const key = stuckKey(target);
    if (this.current.has(key)) return;
    const read: StuckRead = { target, what, since: this.now() };
    this.current.set(key, read);
    this.declared[target.kind]++;
    this.log.error('read stuck in the kernel: skipping its target until it returns', { ...targetFields(target), read: what });
    const hold = holdMs > 0 ? new Promise((resolve) => setTimeout(resolve, holdMs).unref()) : Promise.resolve();
    void Promise.all([settled.catch(() => undefined), hold]).then(() => {
      if (this.current.get(key) !== read) return;
      this.current.delete(key);
      this.log.info('stuck read returned: reading its target again', {
        ...targetFields(target),
        read: what,
        stuck_seconds: ((this.now() - read.since) / 1000).toFixed(1),
      });
    });
  }

  /** Stuck reads now, oldest first. */
  list(kind?: StuckReadKind): StuckRead[] {
    return [...this.current.values()].filter((r) => kind === undefined || r.target.kind === kind);
  }

  /** PIDs whose reads are stuck (their memory-map lock, or their root's file system). */
  stuckPids(): Set<number> {
    const pids = new Set<number>();
    for (const { target } of this.current.values()) if ('pid' in target) pids.add(target.pid);
    return pids;
  }

  /** Mounts whose file system does not answer. */
  stuckMounts(): string[] {
    const mounts: string[] = [];
    for (const { target } of this.current.values()) if ('mount' in target) mounts.push(target.mount);
    return mounts;
  }

  count(kind: StuckReadKind): number {
    let n = 0;
    for (const { target } of this.current.values()) if (target.kind === kind) n++;
    return n;
  }

  /** Reads declared stuck since start, by kind. */
  total(kind: StuckReadKind): number {
    return this.declared[kind];
  }
}

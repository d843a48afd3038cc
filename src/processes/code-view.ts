import type { ExecutableFacts } from './host-view.js';

/** A file mapped executable into a process (a line of /proc/PID/maps with `x`), by path. */
export interface ExecutableMapping {
  readonly path: string;
  /** The kernel marked it ` (deleted)`: removed or replaced since it was mapped. */
  readonly deleted: boolean;
  /** For a deleted mapping: the facts of what is at its path now (a package upgrade tells itself this way). */
  readonly facts: ExecutableFacts | undefined;
}

/** The code of one process beyond its executable, as read from maps and environ. Plain data. */
export interface CodeView {
  readonly pid: number;
  /** Unix seconds; a deleted mapping replaced by a package after this is an upgrade, not an injection. */
  readonly startedAt: number;
  /** The executable, and its script or loaded program: their mappings are judged with them, not here. */
  readonly ownFiles: readonly string[];
  readonly mappings: readonly ExecutableMapping[];
  /** LD_PRELOAD of its environment at exec, split into paths; empty when unset or unreadable. */
  readonly preload: readonly string[];
  /**
   * For a process in a container (another root than the host's), its root directory as the host
   * sees it (`/var/lib/machines/web` for a chroot-like container; `/` when it pivoted into a mount
   * the host does not see); undefined on the host.
   */
  readonly containerRoot: string | undefined;
}

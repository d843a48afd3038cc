import type { FileState } from './file-state.js';

/** Messages between the privileged-file search (main thread) and its walker thread, and what the search hands the judgment. */

/** A privileged file as the search observed it. */
export interface PrivilegedFile {
  readonly path: string;
  /** lstat attributes and, when the file could be read, its SHA-256 and MD5. */
  readonly state: FileState;
  readonly capability?: string;
}

export interface WalkerRequest {
  /** --path.rootfs: host paths are read below it. */
  readonly rootfs: string;
  /** Mount points (host paths) to walk, each staying on its own device. */
  readonly mountPoints: readonly string[];
  /** Every mount point of the host: never entered (nor lstat'ed: a dead network mount would hang it) from another walk. */
  readonly otherMountPoints: readonly string[];
  /** Globs of host paths not searched. */
  readonly exclude: readonly string[];
  /** Entries examined per second at most; 0: no limit. */
  readonly maxEntriesPerSecond: number;
  /** The getcap program to read file capabilities with, or undefined: capabilities are not read. */
  readonly getcap: string | undefined;
}

/** A regular file with a setuid or setgid bit or file capabilities, as the walk saw it. */
export interface PrivilegedCandidate {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly inode: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  /** getcap's text of its capabilities (`cap_net_raw=ep`), when it has any. */
  readonly capability?: string;
}

export interface WalkerResult {
  readonly candidates: readonly PrivilegedCandidate[];
  /** Directory entries examined. */
  readonly entries: number;
  /** Directories that could not be listed. */
  readonly unreadableDirs: number;
  /** Executables whose capabilities could not be read (getcap failed, or a name it cannot be given). */
  readonly capabilitiesUnchecked: number;
  readonly examples: readonly string[];
}

export type WalkerMessage = { readonly kind: 'done'; readonly result: WalkerResult } | { readonly kind: 'failed'; readonly error: string };

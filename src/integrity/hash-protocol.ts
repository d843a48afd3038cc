/** What the scan asks a helper process to hash, and what it answers. */

export interface StatKey {
  readonly size: number;
  readonly inode: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

export interface HashJob {
  /** Where to read: a path under --path.rootfs, or /proc/PID/exe. */
  readonly file: string;
  /** The lstat the scan saw: if the opened file differs, it changed in between and is not read. */
  readonly expect?: StatKey;
  /** Follow a symbolic link at `file`: only for /proc/PID/exe, whose link leads to the running image. */
  readonly follow: boolean;
  /** SHA-256 is skipped only when the scan already knows it for this very stat and needs the MD5 alone. */
  readonly sha256: boolean;
  readonly md5: boolean;
  /** The host path whose file system answers the reads, when `file` is not it (/proc/PID/exe leads to the image's). */
  readonly readsFrom?: string;
}

/**
 * `vanished`: gone before it was opened; `changed`: not the file the scan saw (replaced, or no
 * longer a regular file: fifos and devices are never read); `unstable`: it changed while it was
 * read (a growing file); `unreadable`: permission or I/O error; `stuck`: not read, its file
 * system does not answer.
 */
export type HashProblem = 'vanished' | 'changed' | 'unstable' | 'unreadable' | 'stuck';

export interface HashResult {
  readonly sha256?: string;
  readonly md5?: string;
  readonly bytes: number;
  readonly problem?: HashProblem;
  /** errno code or message, for the log. */
  readonly detail?: string;
  /** The stat of what was read (fstat of the open file). */
  readonly stat?: StatKey;
}

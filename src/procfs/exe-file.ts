/** The file a process runs, as stat of /proc/PID/exe sees it: the very inode, also once deleted. */
export interface ExecutableFile {
  /** The inode number. On overlayfs, a file of the upper (writable) layer keeps its own number. */
  readonly inode: bigint;
  /** 0 when the file was removed from every directory: only the running process holds it. */
  readonly links: number;
}

/** What stat said, as the fields judgment compares (BigInt keeps 64-bit inode numbers exact). */
export function executableFileOf(stats: { readonly ino: bigint; readonly nlink: bigint }): ExecutableFile {
  return { inode: stats.ino, links: Number(stats.nlink) };
}

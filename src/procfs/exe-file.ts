import { stat } from 'node:fs/promises';

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

/**
 * stat of /proc/PID/exe: the kernel follows the link to the running file itself, even when it was
 * deleted or replaced. Needs the same access as reading the link (ptrace read access: the same
 * user, or CAP_SYS_PTRACE); throws ENOENT when the process is gone, EACCES without that access.
 */
export async function statExecutable(procfs: string, pid: number): Promise<ExecutableFile> {
  return executableFileOf(await stat(`${procfs}/${pid}/exe`, { bigint: true }));
}

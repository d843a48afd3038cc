import { statSync } from 'node:fs';
import { problemOf, type ProcReadProblem } from './errors.js';

/**
 * A directory as the kernel identifies it, device and inode as text (`65024:2`): two paths with
 * the same identity are the same directory, whatever mounts lead to them. BigInt stat keeps
 * 64-bit inode numbers exact.
 */
export type DirectoryIdentity = string;

/** What stat said of a process's root directory; `stuck`: the stat did not return (its file system stalls). */
export type ProcessRoot =
  | { readonly kind: 'directory'; readonly identity: DirectoryIdentity }
  | { readonly kind: 'unreadable'; readonly problem: ProcReadProblem | 'stuck' };

/**
 * The root directory of a process: stat of /proc/PID/root, a link the kernel follows into that
 * process's own root (its chroot, or the root a container runtime pivoted to). Unreadable without
 * the privilege to inspect the process (`denied`), or when it exits meanwhile (`gone`).
 */
export function processRoot(procfs: string, pid: number): ProcessRoot {
  try {
    return { kind: 'directory', identity: identityOf(statSync(`${procfs}/${pid}/root`, { bigint: true })) };
  } catch (error) {
    return { kind: 'unreadable', problem: problemOf(error) ?? 'malformed' };
  }
}

/** The identity of a directory (the host's root: --path.rootfs); undefined when it cannot be stat'ed. */
export function directoryIdentity(path: string): DirectoryIdentity | undefined {
  try {
    return identityOf(statSync(path, { bigint: true }));
  } catch {
    return undefined;
  }
}

export function identityOf(stat: { readonly dev: bigint; readonly ino: bigint }): DirectoryIdentity {
  return `${stat.dev}:${stat.ino}`;
}

/** Whose root a process has: the host's, another (a container's), or one that could not be stat'ed. */
export type RootAgainstHost = 'host' | 'other' | 'unreadable';

/**
 * A process's root compared with the host's (`host`: the identity of --path.rootfs, undefined when
 * that could not be stat'ed, which leaves every root it is compared with unreadable).
 */
export function rootAgainstHost(root: ProcessRoot, host: DirectoryIdentity | undefined): RootAgainstHost {
  if (root.kind === 'unreadable' || host === undefined) return 'unreadable';
  return root.identity === host ? 'host' : 'other';
}

import type { ExeLink } from '../procfs/exe.js';
import type { UserClass } from '../rootfs/users.js';
import type { RootAgainstHost } from '../procfs/root.js';
import type { ContainerFacts } from './container-facts.js';

/** One process as judgment sees it: what /proc said, with names resolved. Plain data. */
export interface ObservedProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly argv0: string;
  readonly cmdlineEmpty: boolean;
  readonly kernelThread: boolean;
  readonly state: string;
  readonly euid: number;
  /** The user name of the effective uid (what `ps` shows as USER), or the uid as text. */
  readonly user: string;
  readonly userClass: UserClass;
  readonly exe: ExeLink;
  /** The parent's executable path, when the parent is known and readable. */
  readonly parentExe: string | undefined;
  readonly cpuSeconds: number;
  /** CPU used since the previous look (or over its life on the first look), in cores. */
  readonly cpuCores: number;
  readonly rssBytes: number;
  /** Unix seconds. */
  readonly startedAt: number;
  /** /proc/PID/ns/mnt; undefined when unreadable. */
  readonly mountNamespace: string | undefined;
  /**
   * Whose files its executable path names, by its root directory: `host` for a process in the
   * host's mount namespace (the kernel shows its paths from the host's root, even under a chroot)
   * or in another one with the host's root (systemd's PrivateTmp, ProtectSystem and similar
   * sandboxes, `unshare -m`); `other` for one whose root is another directory (a container's);
   * `unreadable` when that root could not be stat'ed (see inContainer).
   */
  readonly root: RootAgainstHost;
  /** A read of its memory map or root did not return within the deadline (see ProcessDetails.stalled). */
  readonly stalled: boolean;
  /**
   * Its executable lies on a detached mount (see onDetachedMount) and is the very file its parent
   * runs: the same device and inode as /proc/PPID/exe. runc starts its init this way (a read-only
   * bind mount of its own binary, opened, detached, then run with execveat), so the path it runs
   * is its parent's. Set by observation only for such a process.
   */
  readonly runsParentExe?: boolean;
}

/**
 * What /proc/PID/exe reads when the executable lies on a mount that was detached (`umount -l`)
 * after the file was opened: the mount's own root, `/`. No directory can be executed, so this
 * names no file on the host; which file it is must be learnt from its identity.
 */
export const detachedMountPath = '/';

/** A host process whose executable lies on a detached mount: its path says nothing of the file. */
export function onDetachedMount(p: ObservedProcess): boolean {
  return p.exe.kind === 'path' && p.exe.path === detachedMountPath && !inContainer(p);
}

/** The host path judged for a host process: its executable's, or its parent's when it runs that very file from a detached mount. */
export function judgedExePath(p: ObservedProcess): string | undefined {
  if (p.exe.kind !== 'path') return undefined;
  return p.runsParentExe && p.parentExe !== undefined && p.exe.path === detachedMountPath ? p.parentExe : p.exe.path;
}

/** Facts about one executable path, gathered once per collection for every process running it. */
export interface ExecutableFacts {
  /** An installed package owns the path (dpkg). */
  readonly packaged: boolean;
  /** The file, or the directory holding it, is writable by anyone. */
  readonly worldWritable: boolean;
  /** For a deleted executable: the ctime (Unix seconds) of the file now at that path, if one is. */
  readonly replacedAt: number | undefined;
}

/** Everything judgment needs from the host, in one value: judgment reads nothing else. */
export interface HostView {
  readonly processes: readonly ObservedProcess[];
  readonly executables: ReadonlyMap<string, ExecutableFacts>;
  /** Home directories of root and regular users (for `writable_locations.home_directories`). */
  readonly homeDirectories: readonly string[];
  /** When dpkg last changed its database (Unix seconds); undefined without dpkg. */
  readonly dpkgChangedAt: number | undefined;
  /** What observation found about each process in a container, by PID (container-observe.ts). */
  readonly containers?: ReadonlyMap<number, ContainerFacts>;
}

/**
 * A process in a container: its root is not the host's, so its executable path names a file of
 * that root, about which neither the host's files nor its packages say anything. A root that could
 * not be stat'ed (the process exited meanwhile, or a security module hides it) is taken for a
 * container's, as observation looks only at processes in another mount namespace: judged as the
 * host's, a container's /app/server caught in that race would be a false unknown_executable, while
 * an implant cannot hide its root from root and still show its executable (both need the same
 * access to the process).
 */
export function inContainer(p: ObservedProcess): boolean {
  return p.root !== 'host';
}

/** A memfd (memory-only file) as /proc/PID/exe shows it: `/memfd:NAME (deleted)`. */
export function isMemfd(path: string): boolean {
  return path.startsWith('/memfd:');
}

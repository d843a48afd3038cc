import type { ExeLink } from '../procfs/exe.js';
import type { UserClass } from '../procfs/users.js';

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
  /** The host's mount namespace (PID 1's): the one whose files --path.rootfs shows. */
  readonly hostMountNamespace: string | undefined;
}

/**
 * A process in another mount namespace (a container): its executable path names a file of its
 * own root, not the host's, so neither the host's files nor its packages say anything about it.
 * When either namespace is unreadable the process is taken to be the host's.
 */
export function inOtherMountNamespace(p: ObservedProcess, hostMountNamespace: string | undefined): boolean {
  return p.mountNamespace !== undefined && hostMountNamespace !== undefined && p.mountNamespace !== hostMountNamespace;
}

/** A memfd (memory-only file) as /proc/PID/exe shows it: `/memfd:NAME (deleted)`. */
export function isMemfd(path: string): boolean {
  return path.startsWith('/memfd:');
}

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { mountNamespace } from '../procfs/namespaces.js';
import { directoryIdentity, processRoot, rootAgainstHost } from '../procfs/root.js';
import { readProcessTable } from '../procfs/process-table.js';
import type { StatKey } from './hash-protocol.js';

/**
 * One executable image that processes are running, read through /proc/PID/exe: that link leads to
 * the inode the process runs even after the file on disk was replaced or deleted, so a trojan that
 * was started and then swapped back for the original is still what gets hashed.
 */
export interface RunningImage {
  /** The path /proc/PID/exe names, without " (deleted)". */
  readonly path: string;
  /** The file at `path` is no longer this image (replaced or removed since the process started). */
  readonly deleted: boolean;
  readonly pids: readonly number[];
  /** /proc/PID/exe of one of those processes: where the image is read. */
  readonly procExe: string;
  readonly stat: StatKey;
  /** Identity of the image across scans (device, inode, size, times). */
  readonly key: string;
}

export interface RunningImagesTrouble {
  /** Processes under another root (containers): their paths name other files. */
  otherRoot: number;
  /** Processes whose executable or namespace we may not read (not root). */
  unreadable: number;
  /** Processes that exited while being read. */
  gone: number;
  /** Processes not looked at because their executable's file system, or their root, is stuck. */
  stuck: number;
}

/** What the process running the listing learns and decides on the way (see WalkHooks). */
export interface RunningImagesHooks {
  /** Right before the stat of an image, with its host path (the file system that answers it). */
  readonly touchPath?: (hostPath: string) => void;
  /** Right before the stat of a process's root. */
  readonly touchPid?: (pid: number) => void;
  readonly skipPath?: (hostPath: string) => boolean;
  readonly skipPid?: (pid: number) => boolean;
}

/**
 * Every distinct executable image running under the host's root (`rootfs`), grouped by inode. A
 * process in another mount namespace whose root is still the host's (a systemd unit with
 * PrivateTmp or ProtectSystem, `unshare -m`) runs host files and is listed; one under a root of
 * its own (a container) is counted apart, as the processes collector tells them.
 */
export function listRunningImages(
  procfs: string,
  rootfs: string,
  hooks: RunningImagesHooks = {},
): { images: RunningImage[]; trouble: RunningImagesTrouble } {
  const trouble: RunningImagesTrouble = { otherRoot: 0, unreadable: 0, gone: 0, stuck: 0 };
  const onHost = (path: string) => (rootfs === '/' ? path : join(rootfs, path));
  // PID 1's namespace is the host's (also when we run in a container with the host's /proc);
  // where it is hidden from us, our own.
  const hostNamespace = mountNamespace(procfs, 1) ?? mountNamespace(procfs, 'self');
  const hostRoot = directoryIdentity(rootfs);
  const table = readProcessTable(procfs);
  trouble.gone += table.races;
  const byKey = new Map<string, { path: string; deleted: boolean; pids: number[]; procExe: string; stat: StatKey }>();
  for (const p of table.processes) {
    if (p.kernelThread) continue;
    if (p.exe.kind === 'unreadable') {
      trouble.unreadable++;
      continue;
    }
    if (p.exe.kind !== 'path') continue;
    const namespace = mountNamespace(procfs, p.pid);
    if (namespace === undefined) {
      trouble.unreadable++;
      continue;
    }
    if (hostNamespace !== undefined && namespace !== hostNamespace) {
      if (hooks.skipPid?.(p.pid)) {
        trouble.stuck++;
        continue;
      }
      hooks.touchPid?.(p.pid);
      const root = processRoot(procfs, p.pid);
      if (root.kind === 'unreadable' && root.problem === 'gone') {
        trouble.gone++;
        continue;
      }
      // An unreadable root counts as another one, as for the processes collector.
      if (rootAgainstHost(root, hostRoot) !== 'host') {
        trouble.otherRoot++;
        continue;
      }
    }
    const procExe = `${procfs}/${p.pid}/exe`;
    let stat: StatKey;
    let dev: bigint;
    // The stat follows the link into the image's own file system: that is the one that answers.
    const imageHost = onHost(p.exe.path);
    if (hooks.skipPath?.(imageHost)) {
      trouble.stuck++;
      continue;
    }
    hooks.touchPath?.(imageHost);
    try {
      const s = statSync(procExe, { bigint: true });
      stat = { size: Number(s.size), inode: String(s.ino), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
      dev = s.dev;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') trouble.gone++;
      else trouble.unreadable++;
      continue;
    }
    const key = `${dev}:${stat.inode}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    const group = byKey.get(key);
    if (group) group.pids.push(p.pid);
    else byKey.set(key, { path: p.exe.path, deleted: p.exe.deleted, pids: [p.pid], procExe, stat });
  }
  return { images: [...byKey.entries()].map(([key, g]) => ({ ...g, key })), trouble };
}

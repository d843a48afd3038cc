import { readlinkSync } from 'node:fs';
import { readlink } from 'node:fs/promises';

/**
 * The mount namespace of a process, as the text of /proc/PID/ns/mnt (`mnt:[4026531841]`);
 * undefined when it cannot be read (gone, or not ours to inspect without root). Paths a process
 * names (its executable, its files) are paths in this namespace, not necessarily the host's.
 */
export function mountNamespace(procfs: string, pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`${procfs}/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/**
 * The host's mount namespace: PID 1's (also when we run in a container with the host's /proc);
 * where that is hidden from us, our own.
 */
export function hostMountNamespace(procfs: string): string | undefined {
  return mountNamespace(procfs, 1) ?? mountNamespace(procfs, 'self');
}

/**
 * The network namespace of a process, as the text of /proc/PID/ns/net (`net:[4026531840]`);
 * undefined when it cannot be read. Its sockets are listed in /proc/PID/net/*, not in the
 * reader's /proc/net when the two differ (a container with a network of its own).
 */
export async function networkNamespace(procfs: string, pid: number | 'self'): Promise<string | undefined> {
  try {
    return await readlink(`${procfs}/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

import { parseMountInfo, type MountInfoEntry } from './mountinfo.js';
import { readProcText } from './read-text.js';

/** A mount as the exporter's mount table keeps it: where, and which file system. */
export type Mount = Pick<MountInfoEntry, 'mountPoint' | 'fsType' | 'source'>;

/**
 * File systems whose calls can wait on something other than this host's own disks and memory: a
 * process in user space (FUSE, which any user may mount with fusermount, and virtiofs, which speaks
 * FUSE to the hypervisor) or a server across the network. A stat, a listing or a page fault there
 * can wait as long as that process or server lets it, in an uninterruptible sleep.
 */
const stallableTypes = new Set([
  'fuse',
  'fuseblk',
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  '9p',
  'ceph',
  'afs',
  'glusterfs',
  'lustre',
  'virtiofs',
  'ncpfs',
  'coda',
  'gpfs',
  'beegfs',
  'orangefs',
  'ocfs2',
  'gfs2',
]);

export function isStallable(fsType: string): boolean {
  // fuse.sshfs, fuse.s3fs, fuse.gvfsd-fuse, ...: the part after the dot is the FUSE server's choice.
  return stallableTypes.has(fsType) || fsType.startsWith('fuse.');
}

/** The mounts the exporter sees, to tell which one a path lies on. */
export class MountTable {
  /** Longest mount point first; among equal ones, the last mounted (the one on top). */
  private readonly byDepth: Mount[];

  constructor(readonly mounts: readonly Mount[]) {
    this.byDepth = mounts
      .map((m, order) => ({ m, order }))
      .sort((a, b) => b.m.mountPoint.length - a.m.mountPoint.length || b.order - a.order)
      .map(({ m }) => m);
  }

  /** The mount an absolute path lies on (the path itself may be its mount point); undefined when none is `/`. */
  mountOf(path: string): Mount | undefined {
    for (const mount of this.byDepth) {
      const point = mount.mountPoint;
      if (point === '/' || path === point || (path.startsWith(point) && path.charCodeAt(point.length) === 47) /* / */) return mount;
    }
    return undefined;
  }

  /** Whether any mount is on a file system that can stall. */
  get anyStallable(): boolean {
    return this.mounts.some((m) => isStallable(m.fsType));
  }

  /**
   * Whether a call on `path` may wait on a stalled file system: the path lies on such a mount, or
   * (for a directory being listed or walked) one is mounted below it.
   */
  mayStall(path: string, orBelow = false): boolean {
    const mount = this.mountOf(path);
    if (mount === undefined || isStallable(mount.fsType)) return true;
    if (!orBelow) return false;
    const prefix = path.endsWith('/') ? path : `${path}/`;
    return this.mounts.some((m) => isStallable(m.fsType) && m.mountPoint.startsWith(prefix));
  }
}

/** readOwnMounts, or undefined when the mount table cannot be read. */
export function ownMountsIfReadable(procfs: string): MountTable | undefined {
  try {
    return readOwnMounts(procfs);
  } catch {
    return undefined;
  }
}

/** The exporter's own mount table (its mount namespace, as --path.procfs shows it). */
export function readOwnMounts(procfs: string): MountTable {
  const file = `${procfs}/self/mountinfo`;
  return new MountTable(parseMountInfo(readProcText(file, 'utf8'), file));
}

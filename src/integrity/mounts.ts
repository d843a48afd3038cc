/**
 * Which file systems the privileged-file search walks: the host's local ones, as `find -xdev` on
 * each would, never network or pseudo file systems, read-only images, nor the same file system
 * twice. Pure: the text of /proc/1/mountinfo in, mount points out.
 */
export interface Mount {
  readonly device: string;
  /** The directory of the file system that is mounted here ("/" unless a bind mount of a subtree). */
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly options: readonly string[];
}

/** Disk and memory file systems where a file can be made setuid or given capabilities by someone on the host. */
export const localFileSystems: readonly string[] = [
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'zfs',
  'f2fs',
  'jfs',
  'reiserfs',
  'bcachefs',
  'nilfs2',
  'tmpfs',
  'ramfs',
  'devtmpfs',
];

/** /proc/PID/mountinfo lines; malformed lines are skipped. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 10 || separator === -1 || separator + 2 >= fields.length) continue;
    mounts.push({
      device: fields[2]!,
      root: unescapeOctal(fields[3]!),
      mountPoint: unescapeOctal(fields[4]!),
      options: fields[5]!.split(','),
      fsType: fields[separator + 1]!,
    });
  }
  return mounts;
}

/** mountinfo writes space, tab, newline and backslash as \040, \011, \012, \134. */
function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * The mounts to walk, each file system once: a bind mount of a file system already walked whole
 * is skipped, and of the mounts of one device with the same root, the one nearest to /. A mount
 * hidden under a later mount on the same point is skipped too (its files cannot be reached).
 */
export function mountsToSearch(mounts: readonly Mount[], fileSystems: readonly string[] = localFileSystems): Mount[] {
  const visible = new Map<string, Mount>();
  for (const mount of mounts) visible.set(mount.mountPoint, mount); // later mounts on the same point hide earlier ones
  const local = [...visible.values()]
    .filter((m) => fileSystems.includes(m.fsType))
    .sort((a, b) => depth(a.mountPoint) - depth(b.mountPoint));
  const walked = new Map<string, string[]>(); // device → roots walked
  const out: Mount[] = [];
  for (const mount of local) {
    const roots = walked.get(mount.device) ?? [];
    if (roots.some((root) => root === '/' || mount.root === root || mount.root.startsWith(`${root}/`))) continue;
    roots.push(mount.root);
    walked.set(mount.device, roots);
    out.push(mount);
  }
  return out;
}

function depth(path: string): number {
  return path === '/' ? 0 : path.split('/').length - 1;
}

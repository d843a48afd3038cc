import type { BigIntStats } from 'node:fs';
import { z } from 'zod';

/**
 * What the integrity collector records of one path: the attributes AIDE's default rules check
 * (type, permission bits, owner, group, size, inode, times, content hash, link target).
 */
export const fileTypes = ['file', 'directory', 'symlink', 'fifo', 'socket', 'char_device', 'block_device'] as const;
export type FileType = (typeof fileTypes)[number];

export interface FileState {
  readonly type: FileType;
  /** Permission bits including setuid, setgid and sticky (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Decimal text: inode numbers can exceed 2^53. */
  readonly inode: string;
  /** Nanoseconds since the epoch, as decimal text (a JSON number would lose precision). */
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  /** Regular files whose content was read: SHA-256, hex. Absent when it could not be read. */
  readonly sha256?: string;
  /** MD5 as well, only for files the package database has a checksum for (never in the baseline). */
  readonly md5?: string;
  /** Symbolic links: the target as stored in the link. */
  readonly target?: string;
}

export function fileTypeOf(stats: BigIntStats): FileType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'char_device';
  return 'block_device';
}

/** The attributes of an lstat that the fast path and the judgment need, without content. */
export function stateFromStats(stats: BigIntStats): FileState {
  return {
    type: fileTypeOf(stats),
    mode: Number(stats.mode & 0o7777n),
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    size: Number(stats.size),
    inode: String(stats.ino),
    mtimeNs: String(stats.mtimeNs),
    ctimeNs: String(stats.ctimeNs),
  };
}

/**
 * The fast-path key: a file whose size, inode, mtime and ctime are all unchanged is not re-read.
 * ctime cannot be set from user space, so `touch -r` after an edit still changes the key.
 */
export function fastPathKey(state: Pick<FileState, 'size' | 'inode' | 'mtimeNs' | 'ctimeNs'>): string {
  return `${state.size}:${state.inode}:${state.mtimeNs}:${state.ctimeNs}`;
}

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`));
const decimal = z.string().regex(/^\d+$/);

/** One baseline entry as stored in the `integrity` section (snake_case, mode in octal text). */
export const baselineFileEntrySchema = z
  .object({
    type: z.enum(fileTypes),
    mode: z.string().regex(/^[0-7]{4}$/),
    uid: z.number().int().nonnegative(),
    gid: z.number().int().nonnegative(),
    size: z.number().int().nonnegative(),
    inode: decimal,
    mtime_ns: decimal,
    ctime_ns: decimal,
    sha256: hex(64).optional(),
    target: z.string().optional(),
  })
  .strict();

export type BaselineFileEntry = z.infer<typeof baselineFileEntrySchema>;

const entryKeys = new Set(['type', 'mode', 'uid', 'gid', 'size', 'inode', 'mtime_ns', 'ctime_ns', 'sha256', 'target']);
const knownTypes = new Set<string>(fileTypes);
const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isDecimal = (v: unknown) => typeof v === 'string' && /^\d+$/.test(v);

/**
 * Whether an entry is what baselineFileEntrySchema accepts, checked by hand: zod took a tenth of a
 * second for the 10,000 entries of a baseline, at every start and every `check`. The schema stays
 * the judge of what is not well-formed, and names the problem.
 */
export function isWellFormedEntry(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return false;
  const e = entry as Record<string, unknown>;
  for (const key in e) if (!entryKeys.has(key)) return false;
  return (
    typeof e['type'] === 'string' &&
    knownTypes.has(e['type']) &&
    typeof e['mode'] === 'string' &&
    /^[0-7]{4}$/.test(e['mode']) &&
    isCount(e['uid']) &&
    isCount(e['gid']) &&
    isCount(e['size']) &&
    isDecimal(e['inode']) &&
    isDecimal(e['mtime_ns']) &&
    isDecimal(e['ctime_ns']) &&
    (e['sha256'] === undefined || (typeof e['sha256'] === 'string' && /^[0-9a-f]{64}$/.test(e['sha256']))) &&
    (e['target'] === undefined || typeof e['target'] === 'string')
  );
}

export function toBaselineEntry(state: FileState): BaselineFileEntry {
  const entry: BaselineFileEntry = {
    type: state.type,
    mode: state.mode.toString(8).padStart(4, '0'),
    uid: state.uid,
    gid: state.gid,
    size: state.size,
    inode: state.inode,
    mtime_ns: state.mtimeNs,
    ctime_ns: state.ctimeNs,
  };
  if (state.sha256 !== undefined) entry.sha256 = state.sha256;
  if (state.target !== undefined) entry.target = state.target;
  return entry;
}

export function fromBaselineEntry(entry: BaselineFileEntry): FileState {
  return {
    type: entry.type,
    mode: parseInt(entry.mode, 8),
    uid: entry.uid,
    gid: entry.gid,
    size: entry.size,
    inode: entry.inode,
    mtimeNs: entry.mtime_ns,
    ctimeNs: entry.ctime_ns,
    ...(entry.sha256 !== undefined && { sha256: entry.sha256 }),
    ...(entry.target !== undefined && { target: entry.target }),
  };
}

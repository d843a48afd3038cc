import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-write.js';
import { fastPathKey, type FileState } from './file-state.js';
import type { ImageMemo, KnownHash } from './scan.js';

/**
 * The hashes the last scan read, kept in the state directory: the running executables' images
 * by device, inode, size, mtime and ctime, and the watched files' SHA-256 and MD5 (the MD5s,
 * for the package database, are not in the baseline) by the fast-path key. A one-shot `check`
 * starts with no previous scan; with this it reads only what changed since the last one, as the
 * running exporter does, instead of the Node binary and every dpkg-owned file each time.
 *
 * It is a cache, not evidence: an entry is used only while the file's key is unchanged (ctime
 * cannot be set from user space), every full rehash (integrity.full_rehash_interval) ignores it,
 * and a file that is missing, garbage or of another format is ignored and rewritten.
 */
const format = 'hostguard-hash-cache/1';
const sha256 = /^[0-9a-f]{64}$/;
const md5 = /^[0-9a-f]{32}$/;

export interface CachedHashes {
  readonly files: ReadonlyMap<string, KnownHash>;
  readonly images: ImageMemo;
}

const empty: CachedHashes = { files: new Map(), images: new Map() };

type Row = [key: string, sha256: string, md5?: string];

export class HashCache {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'integrity-hash-cache.json');
  }

  read(): CachedHashes {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return empty;
    }
    return parseCache(raw);
  }

  /** Best effort, like the full-rehash record: a state directory we may not write costs reads next time. */
  write(files: ReadonlyMap<string, FileState>, images: ImageMemo): boolean {
    const fileRows: Record<string, Row> = {};
    for (const [path, state] of files) {
      if (state.type === 'file' && state.sha256 !== undefined) fileRows[path] = rowOf(fastPathKey(state), state.sha256, state.md5);
    }
    const imageRows: Record<string, Row> = {};
    for (const [key, known] of images) imageRows[key] = rowOf(known.key, known.sha256, known.md5);
    try {
      writeFileAtomic(this.path, JSON.stringify({ format, files: fileRows, images: imageRows }) + '\n', 0o600);
      return true;
    } catch {
      return false;
    }
  }
}

function rowOf(key: string, sha: string, md: string | undefined): Row {
  return md === undefined ? [key, sha] : [key, sha, md];
}

/** Pure: a parsed cache document's valid rows; anything else is dropped. */
export function parseCache(raw: unknown): CachedHashes {
  if (raw === null || typeof raw !== 'object' || (raw as { format?: unknown }).format !== format) return empty;
  const doc = raw as { files?: unknown; images?: unknown };
  return { files: rows(doc.files), images: rows(doc.images) };
}

function rows(value: unknown): Map<string, KnownHash> {
  const out = new Map<string, KnownHash>();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [name, row] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(row) || row.length < 2 || row.length > 3) continue;
    const [key, sha, md] = row as unknown[];
    if (typeof key !== 'string' || typeof sha !== 'string' || !sha256.test(sha)) continue;
    if (md !== undefined && (typeof md !== 'string' || !md5.test(md))) continue;
    out.set(name, { key, sha256: sha, ...(md !== undefined && { md5: md as string }) });
  }
  return out;
}

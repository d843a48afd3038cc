import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { Fingerprint } from '../tail/fingerprint.js';

/** Decompressors by suffix: gzip in process, the others through their command when it is installed. */
const decompressors: ReadonlyArray<readonly [string, readonly string[] | 'gzip']> = [
  ['.gz', 'gzip'],
  ['.xz', ['xz', '-dc']],
  ['.zst', ['zstd', '-dc']],
  ['.bz2', ['bzip2', '-dc']],
  ['.lz4', ['lz4', '-dc']],
];

/** Compressed bytes read from the start of a candidate: enough to decompress a first line of 1 KiB. */
const headBytes = 64 * 1024;
/** The newest candidates looked at: logrotate's `rotate N` keeps a few. */
const maxCandidates = 8;

/**
 * Observation for the tampering judgment: the compressed file beside `path` (logrotate's
 * `auth.log.1.gz`, `auth.log-20240105.xz`) whose content starts with the first line the followed
 * file had, or undefined. That is logrotate's doing when a file was truncated (copytruncate, the
 * copy then compressed) or deleted (renamed, then compressed before the exporter looked). A
 * compressor that is not installed cannot confirm anything: its files are passed over.
 */
export function findCompressedCopy(path: string, fingerprint: Fingerprint): string | undefined {
  if (fingerprint.length === 0) return undefined;
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const candidates = names
    .filter((n) => n.startsWith(base) && n !== base && decompressors.some(([suffix]) => n.endsWith(suffix)))
    .map((n) => ({ path: join(dir, n), mtime: mtimeOf(join(dir, n)) }))
    .sort((a, b) => b.mtime - a.mtime)
    .slice(0, maxCandidates);
  for (const candidate of candidates) {
    const head = decompressedHead(candidate.path, fingerprint.length);
    if (head && head.length === fingerprint.length && createHash('sha256').update(head).digest('hex') === fingerprint.sha256)
      return candidate.path;
  }
  return undefined;
}

function decompressedHead(path: string, length: number): Buffer | undefined {
  const compressed = readHead(path);
  if (!compressed) return undefined;
  const decompressor = decompressors.find(([suffix]) => path.endsWith(suffix))?.[1];
  try {
    if (decompressor === 'gzip') return gunzipSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, length);
    if (!decompressor) return undefined;
    // Fed only the start of the file, the tool prints what it decoded, then complains: what it printed is enough.
    const run = spawnSync(decompressor[0]!, decompressor.slice(1), { input: compressed, maxBuffer: 4 * headBytes, timeout: 5000 });
    return run.stdout && run.stdout.length > 0 ? run.stdout.subarray(0, length) : undefined;
  } catch {
    return undefined;
  }
}

function readHead(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(headBytes);
    const n = readSync(fd, buffer, 0, headBytes, 0);
    return buffer.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

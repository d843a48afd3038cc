import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { fsPath } from './fs-names.js';
import type { HashJob, HashResult, StatKey } from './hash-protocol.js';

/**
 * What a hash helper process does with each job (src/isolated/helper.ts): synchronous 1 MiB reads
 * (no promise per chunk; the exporter's event loop is in another process) into one reused buffer, so
 * memory is bounded however large the file.
 */
const chunkBytes = 1 << 20;
const buffer = Buffer.allocUnsafe(chunkBytes);

function keyOf(s: BigIntStats): StatKey {
  return { size: Number(s.size), inode: String(s.ino), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
}

function sameKey(a: StatKey, b: StatKey): boolean {
  return a.size === b.size && a.inode === b.inode && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** Hash one file; `tick` is called after each chunk, so a long read still shows progress. */
export function hashFile(job: HashJob, tick?: () => void): HashResult {
  let fd: number;
  try {
    // O_NONBLOCK: a fifo swapped in after the lstat must not hang the worker; O_NOFOLLOW: nor may a symlink.
    fd = openSync(fsPath(job.file), constants.O_RDONLY | constants.O_NONBLOCK | (job.follow ? 0 : constants.O_NOFOLLOW));
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { bytes: 0, problem: 'vanished', detail: code };
    if (code === 'ELOOP' || code === 'ENXIO') return { bytes: 0, problem: 'changed', detail: code };
    return { bytes: 0, problem: 'unreadable', detail: code };
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    const stat = keyOf(before);
    if (!before.isFile()) return { bytes: 0, problem: 'changed', detail: 'not a regular file', stat };
    if (job.expect && !sameKey(job.expect, stat)) return { bytes: 0, problem: 'changed', detail: 'replaced after it was listed', stat };
    const sha256 = job.sha256 ? createHash('sha256') : undefined;
    const md5 = job.md5 ? createHash('md5') : undefined;
    let bytes = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, chunkBytes, null);
      if (n === 0) break;
      const chunk = buffer.subarray(0, n);
      sha256?.update(chunk);
      md5?.update(chunk);
      bytes += n;
      tick?.();
    }
    const after = keyOf(fstatSync(fd, { bigint: true }));
    if (!sameKey(stat, after) || bytes !== stat.size)
      return { bytes, problem: 'unstable', detail: 'changed while it was read', stat: after };
    return { ...(sha256 && { sha256: sha256.digest('hex') }), ...(md5 && { md5: md5.digest('hex') }), bytes, stat };
  } catch (error) {
    return { bytes: 0, problem: 'unreadable', detail: codeOf(error) };
  } finally {
    closeSync(fd);
  }
}

import { closeSync, openSync, readSync } from 'node:fs';

// One buffer for every small /proc read: no per-file allocation, and no fstat (which readFileSync
// does first, to learn a size that /proc files report as 0).
let buffer = Buffer.allocUnsafe(16 * 1024);

/**
 * Read a small /proc file synchronously: open, read, close. `limit` stops early for files where
 * only the head matters (argv[0] of a long command line).
 */
export function readProcText(path: string, encoding: 'latin1' | 'utf8' = 'latin1', limit = Infinity): string {
  const fd = openSync(path, 'r');
  try {
    return readWhole(fd, encoding, limit, null);
  } finally {
    closeSync(fd);
  }
}

function readWhole(fd: number, encoding: 'latin1' | 'utf8', limit: number, position: number | null): string {
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length >= limit) break;
      const grown = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const wanted = Math.min(buffer.length - length, limit - length);
    const n = readSync(fd, buffer, length, wanted, position === null ? null : position + length);
    length += n;
    // A /proc file hands over all of its (small) text in one read: a short read is the end.
    if (n < wanted || length >= limit) break;
  }
  return buffer.toString(encoding, 0, length);
}

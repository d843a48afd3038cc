import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { z } from 'zod';

/**
 * What identifies a file's content beyond its inode, which the filesystem reuses: a SHA-256 of its
 * first line (at most `fingerprintMaxBytes`). A file is "the same" when its first `length` bytes
 * still hash alike; a short file's fingerprint grows as its first line is completed.
 */
export const fingerprintMaxBytes = 1024;

export const fingerprintSchema = z.object({ length: z.number().int().min(0).max(fingerprintMaxBytes), sha256: z.string() }).strict();
export type Fingerprint = z.infer<typeof fingerprintSchema>;

export const emptyFingerprint: Fingerprint = { length: 0, sha256: createHash('sha256').digest('hex') };

/** The fingerprint of an open file as it is now; complete once it covers the first newline or the maximum. */
export function readFingerprint(fd: number): Fingerprint {
  const head = readHead(fd, fingerprintMaxBytes);
  const newline = head.indexOf(0x0a);
  const length = newline >= 0 ? newline + 1 : head.length;
  return { length, sha256: createHash('sha256').update(head.subarray(0, length)).digest('hex') };
}

export function isComplete(fingerprint: Fingerprint, fd: number): boolean {
  if (fingerprint.length >= fingerprintMaxBytes) return true;
  const head = readHead(fd, fingerprint.length);
  return head.length === fingerprint.length && head[fingerprint.length - 1] === 0x0a;
}

/** Whether the file still starts with the bytes the fingerprint was taken from. */
export function fingerprintMatches(fingerprint: Fingerprint, fd: number): boolean {
  const head = readHead(fd, fingerprint.length);
  return head.length === fingerprint.length && createHash('sha256').update(head).digest('hex') === fingerprint.sha256;
}

function readHead(fd: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let got = 0;
  try {
    while (got < length) {
      const n = readSync(fd, buffer, got, length - got, got);
      if (n === 0) break;
      got += n;
    }
  } catch {
    // unreadable now: what was read is all there is
  }
  return buffer.subarray(0, got);
}

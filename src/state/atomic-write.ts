import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface WriteHealth {
  failures: number;
  /** Whether the last write of this file failed. */
  failing: boolean;
  lastError: string | undefined;
}

const health = new Map<string, WriteHealth>();

/**
 * Outcome of the exporter's writes by file name (baseline.json, log positions, ...): a state
 * directory that fills up or turns read-only shows in hostguard_state_write_failing, not in a crash.
 */
export function writeHealth(): ReadonlyMap<string, Readonly<WriteHealth>> {
  return health;
}

/**
 * Write a file so that a crash at any moment leaves either the old or the new content, never a
 * mix: write a temporary file beside it, fsync, rename over the target, fsync the directory.
 * Throws on failure, after recording it in writeHealth().
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const entry = health.get(basename(path)) ?? { failures: 0, failing: false, lastError: undefined };
  health.set(basename(path), entry);
  try {
    writeAtomically(path, data, mode);
    entry.failing = false;
  } catch (error) {
    entry.failures++;
    entry.failing = true;
    entry.lastError = (error as NodeJS.ErrnoException).code ?? String(error);
    throw error;
  }
}

function writeAtomically(path: string, data: string | Uint8Array, mode: number): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd = openSync(temporary, 'w', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    safeUnlink(temporary);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    safeUnlink(temporary);
    throw error;
  }
  fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

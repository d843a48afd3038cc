import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IsolatedFs } from '../../src/isolated/isolated-fs.js';
import { silentLogger } from '../../src/log/logger.js';
import { StuckReads } from '../../src/procfs/stuck-reads.js';
import { tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';

/**
 * A helper process that goes silent while it reads a file of a local file system (here: stopped
 * with SIGSTOP, as a burst of writeback on a busy host holds a read) is waited for: declaring the
 * root file system stuck would skip every watched path until the next scan. Only a file system
 * that may stall (FUSE, NFS: stall.test.ts) is declared stuck after the short deadline.
 */

const stallMs = 300;
const stuck = new StuckReads(silentLogger);
const isolated = new IsolatedFs(stuck, silentLogger, { stallMs });
afterAll(() => isolated.close());

/** Child processes of this test process running the helper, with the bytes each has read. */
function helpers(): { pid: number; rchar: number }[] {
  const found: { pid: number; rchar: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('helper')) continue;
      const rchar = Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${entry}/io`, 'utf8'))?.[1] ?? 0);
      found.push({ pid: Number(entry), rchar });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('a helper silent on a local file system', () => {
  it('is waited for past the stall deadline: the hash completes once it goes on, and nothing is declared stuck', async () => {
    // A sparse file: reading it costs CPU, not disk, and takes long enough to be caught in the middle.
    const file = join(tempDir(), 'large');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 2 ** 30);
    closeSync(fd);
    const hashing = isolated.hash([{ file, follow: false, sha256: true, md5: false }], 0);
    // Stopped in the middle of its read: it has touched the file's (local) file system.
    const helper = await eventually(() => helpers().find((h) => h.rchar > 64 * 2 ** 20), {
      intervalMs: 5,
      timeoutMs: 60_000,
      what: 'the helper reading the file',
    });
    process.kill(helper.pid, 'SIGSTOP');
    try {
      const stoppedAt = performance.now();
      // Ten deadlines of silence, measured on the clock: the watchdog has looked many times meanwhile.
      await eventually(() => performance.now() - stoppedAt > 10 * stallMs, { intervalMs: 50, timeoutMs: 60_000, what: 'ten deadlines' });
      expect(stuck.list()).toEqual([]);
    } finally {
      try {
        process.kill(helper.pid, 'SIGCONT');
      } catch {
        // killed as stuck: the assertion above says so
      }
    }
    const [result] = await hashing;
    expect(result).toMatchObject({ bytes: 2 ** 30 });
    expect(result?.problem).toBeUndefined();
    expect(stuck.list()).toEqual([]);
  });
});

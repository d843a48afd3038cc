import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { parseMountInfo } from '../../src/procfs/mountinfo.js';
import { isStallable, MountTable } from '../../src/procfs/mounts.js';
import { ProcessFiles } from '../../src/procfs/process-files.js';
import { StuckReads } from '../../src/procfs/stuck-reads.js';
import { tempDir } from '../helpers/cli.js';

/**
 * The guard on reads that can block, with a read that really blocks on one of libuv's threads: a
 * fifo without a writer, standing in for /proc/PID/environ of a stalled process (the stall tests
 * in test/integration/stall.test.ts use the real thing, a FUSE file system that stops answering).
 * Not cmdline: that one is opened on the event loop, as /proc/PID/cmdline opens without waiting,
 * and a fifo's open is what waits here.
 */

function capturingLog(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', format: 'logfmt', write: (line) => lines.push(line) }) };
}

/** A procfs of one process, 42, whose environ is a fifo: reading it waits for a writer. */
function procfsWithBlockingCmdline(): { procfs: string; fifo: string } {
  const procfs = tempDir();
  mkdirSync(join(procfs, '42'));
  const fifo = join(procfs, '42', 'environ');
  execFileSync('mkfifo', [fifo]);
  return { procfs, fifo };
}

/** Let a blocked read finish: open the fifo for writing, write a command line, close it. Nothing to do when no read waits. */
function answer(fifo: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') return;
    throw error;
  }
  writeSync(fd, text);
  closeSync(fd);
}

const unblock: (() => void)[] = [];
afterEach(() => {
  for (const release of unblock.splice(0)) release();
});

describe('reads that can block, on libuv threads under a deadline', () => {
  it('a read past its deadline makes its process stuck, is not sent again while it hangs, and the process is read again once it returns', async () => {
    const { procfs, fifo } = procfsWithBlockingCmdline();
    unblock.push(() => answer(fifo, ''));
    const { lines, log } = capturingLog();
    const stuck = new StuckReads(log);
    const files = new ProcessFiles(procfs, stuck, { deadlineMs: 200 });

    expect(await files.read(42, 'environ')).toEqual({ ok: false, problem: 'stuck' });
    expect(stuck.list().map((r) => r.target)).toEqual([{ kind: 'process_memory', pid: 42 }]);
    expect(stuck.count('process_memory')).toBe(1);
    expect(files.heldThreads).toBe(1);
    expect(lines.join('\n')).toMatch(
      /msg="read stuck in the kernel: skipping its target until it returns" .*kind=process_memory pid=42 read=.*\/42\/environ/,
    );

    // The next reads answer without another read queued behind the stuck one.
    expect(await files.read(42, 'environ')).toEqual({ ok: false, problem: 'stuck' });
    expect(files.heldThreads).toBe(1);
    expect(stuck.total('process_memory')).toBe(1);

    unblock.pop();
    answer(fifo, 'sleep\u00003600\u0000');
    await expect.poll(() => stuck.count('process_memory'), { timeout: 10_000 }).toBe(0);
    expect(files.heldThreads).toBe(0);
    expect(stuck.total('process_memory')).toBe(1);
    expect(lines.join('\n')).toMatch(/msg="stuck read returned: reading its target again" .*pid=42/);
  });

  it('refuses reads that could block once stuck reads hold as many threads as allowed, so the pool stays free for the rest', async () => {
    const procfs = tempDir();
    const fifos: string[] = [];
    for (const pid of [1, 2]) {
      mkdirSync(join(procfs, String(pid)));
      const fifo = join(procfs, String(pid), 'environ');
      execFileSync('mkfifo', [fifo]);
      fifos.push(fifo);
      unblock.push(() => answer(fifo, ''));
    }
    mkdirSync(join(procfs, '3'));
    writeFileSync(join(procfs, '3', 'environ'), 'fine\u0000');
    const files = new ProcessFiles(procfs, new StuckReads(createLogger({ level: 'error', format: 'logfmt', write: () => {} })), {
      deadlineMs: 200,
      maxHeld: 1,
    });
    expect(await files.read(1, 'environ')).toEqual({ ok: false, problem: 'stuck' });
    expect(await files.read(2, 'environ')).toEqual({ ok: false, problem: 'busy' });
    expect(await files.read(3, 'environ')).toEqual({ ok: false, problem: 'busy' });
    unblock.shift()!();
    await expect.poll(() => files.heldThreads, { timeout: 10_000 }).toBe(0);
    expect(await files.read(3, 'environ')).toEqual({ ok: true, text: 'fine\u0000' });
  });

  it('readMany answers in order, each process on its own', async () => {
    const { procfs, fifo } = procfsWithBlockingCmdline();
    unblock.push(() => answer(fifo, ''));
    for (const pid of [7, 8]) {
      mkdirSync(join(procfs, String(pid)));
      writeFileSync(join(procfs, String(pid), 'environ'), `p${pid}\u0000`);
    }
    const files = new ProcessFiles(procfs, new StuckReads(createLogger({ level: 'error', format: 'logfmt', write: () => {} })), {
      deadlineMs: 200,
    });
    expect(await files.readMany([7, 42, 8, 9], 'environ')).toEqual([
      { ok: true, text: 'p7\u0000' },
      { ok: false, problem: 'stuck' },
      { ok: true, text: 'p8\u0000' },
      { ok: false, problem: 'gone' },
    ]);
  });

  it('a mount held stuck is skipped until its read returns and at least the hold has passed', async () => {
    const stuck = new StuckReads(createLogger({ level: 'error', format: 'logfmt', write: () => {} }));
    let settle: () => void = () => {};
    stuck.declare(
      { kind: 'file_system', mount: '/mnt/x' },
      'walk in a helper process',
      new Promise<void>((resolve) => (settle = resolve)),
      300,
    );
    expect(stuck.stuckMounts()).toEqual(['/mnt/x']);
    expect(stuck.isStuck({ kind: 'file_system', mount: '/mnt/x' })).toBe(true);
    settle();
    // The read returned, but the hold has not passed: still skipped (no timer can run in between).
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(stuck.stuckMounts()).toEqual(['/mnt/x']);
    await expect.poll(() => stuck.stuckMounts(), { timeout: 5000 }).toEqual([]);
  });
});

describe('the mount table', () => {
  const mountinfo = [
    '22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
    '45 22 0:40 / /home/alice/mnt\\040dir rw,nosuid,nodev,relatime shared:30 - fuse.sshfs alice@host:/ rw,user_id=1000,group_id=1000',
    '46 22 0:41 / /srv/nfs rw,relatime shared:31 - nfs4 server:/export rw,vers=4.2',
    '47 22 0:42 / /tmp rw shared:32 - tmpfs tmpfs rw',
    '48 47 0:43 / /tmp rw shared:33 - fuse stallfs rw,user_id=0',
  ].join('\n');

  it('tells the mount of a path, the one on top of a mount point, and which can stall', () => {
    const table = new MountTable(parseMountInfo(mountinfo));
    expect(table.mountOf('/usr/bin/ls')?.fsType).toBe('ext4');
    expect(table.mountOf('/home/alice/mnt dir/bin/x')?.fsType).toBe('fuse.sshfs');
    expect(table.mountOf('/home/alice/mnt dirx')?.fsType).toBe('ext4');
    expect(table.mountOf('/tmp/x')?.fsType).toBe('fuse');
    expect(table.mayStall('/usr/bin/ls')).toBe(false);
    expect(table.mayStall('/srv/nfs/data')).toBe(true);
    expect(table.mayStall('/home/alice')).toBe(false);
    expect(table.mayStall('/home/alice', true)).toBe(true);
    expect(['fuse', 'fuseblk', 'fuse.sshfs', 'nfs', 'nfs4', 'cifs', 'virtiofs'].every(isStallable)).toBe(true);
    expect(['ext4', 'xfs', 'btrfs', 'tmpfs', 'overlay', 'proc', 'sysfs', 'fusectl', 'nfsd'].some(isStallable)).toBe(false);
  });
});

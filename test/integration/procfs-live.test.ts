import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepHiddenProcesses } from '../../src/processes/hidden-sweep.js';
import { readOwnMounts } from '../../src/procfs/mounts.js';
import { ProcessReader } from '../../src/procfs/process-reader.js';
import { directoryIdentity } from '../../src/procfs/root.js';
import { readProcess, readProcessTable } from '../../src/procfs/process-table.js';
import { tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { spawnOwned, waitForOutput } from '../helpers/processes.js';

/**
 * The /proc readers and the hidden-process sweep on this host's real /proc, with processes the
 * tests start; the parsers and the fixture trees are in test/unit.
 */

const pidMax = () => Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));

describe('reading the live /proc', () => {
  it('reads this very process, argv[0] and executable included, with either reader', async () => {
    const reader = new ProcessReader('/proc');
    const self = (await reader.readAll()).processes.find((p) => p.pid === process.pid);
    reader.close();
    const argv0 = readFileSync('/proc/self/cmdline', 'utf8').split('\0')[0];
    expect(self).toMatchObject({ exe: { kind: 'path', path: process.execPath, deleted: false }, euid: process.geteuid?.(), argv0 });
    const fromTable = readProcessTable('/proc').processes.find((p) => p.pid === process.pid);
    expect(fromTable?.exe).toEqual({ kind: 'path', path: process.execPath, deleted: false });
    expect(fromTable?.uid).toBe(process.getuid?.());
  });

  it('keeps stat files open between reads and closes them when asked', async () => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    const reader = new ProcessReader('/proc');
    const snapshot = await reader.readAll();
    expect(openFds()).toBeGreaterThan(before + snapshot.processes.length / 2);
    reader.close();
    expect(openFds()).toBeLessThanOrEqual(before + 1);
  });

  it('both readers report the resident memory ps reports for a process holding 50 MiB', async () => {
    const holder = spawnOwned(process.execPath, [
      '-e',
      'const held = Buffer.alloc(50 * 2 ** 20, 1); console.log("holding", held.length); setInterval(() => {}, 1000);',
    ]);
    await waitForOutput(holder, /holding/);
    const pid = holder.pid!;
    const psBytes = () => Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
    const reader = new ProcessReader('/proc');
    const before = psBytes();
    const fromTable = readProcess('/proc', pid);
    const fromReader = (await reader.readAll()).processes.find((p) => p.pid === pid);
    const fromReadOne = await reader.readOne(pid);
    const after = psBytes();
    reader.close();
    const measured = [
      fromTable.ok ? fromTable.process.rssBytes : -1,
      fromReader?.rssBytes ?? -1,
      fromReadOne.ok ? fromReadOne.process.rssBytes : -1,
    ];
    expect(before).toBeGreaterThan(50 * 2 ** 20);
    // ps reads VmRSS, exact to the page; the process idles, so 16 pages cover what it touches in
    // between. stat's rss field lagged by 24 to 72 pages on the 2-core test host, which this catches.
    const tolerance = 64 * 1024;
    for (const bytes of measured) {
      expect(bytes).toBeGreaterThanOrEqual(Math.min(before, after) - tolerance);
      expect(bytes).toBeLessThanOrEqual(Math.max(before, after) + tolerance);
    }
  });
});

describe('the mount table of this host', () => {
  it("reads the exporter's own table, / included", () => {
    // Others mount and unmount on this host meanwhile (a mount and its unmount between two reads
    // leave them equal): a read counts when the file agrees before and after, and with the table.
    const lines = (text: string) => text.trim().split('\n').length;
    let agreed: { table: ReturnType<typeof readOwnMounts>; before: string } | undefined;
    for (let attempt = 0; attempt < 100 && !agreed; attempt++) {
      const before = readFileSync('/proc/self/mountinfo', 'utf8');
      const table = readOwnMounts('/proc');
      if (readFileSync('/proc/self/mountinfo', 'utf8') === before && table.mounts.length === lines(before)) agreed = { table, before };
    }
    expect(agreed, 'the table never agreed with /proc/self/mountinfo read around it').toBeDefined();
    expect(agreed!.table.mountOf('/')?.mountPoint).toBe('/');
  });
});

describe('a process read again: what can change is seen at the next read', () => {
  /** A reader that trusts what it read (no youth, no ageing out), as for a long-running process. */
  function trustingReader() {
    const reader = new ProcessReader('/proc', { youngSeconds: 0, maxCacheAgeMs: 3_600_000 });
    const read = async (pid: number) => (await reader.readAll(readOwnMounts('/proc'))).processes.find((p) => p.pid === pid);
    return { reader, read };
  }

  function copyOf(binary: string, name: string): string {
    const copy = join(tempDir(), name);
    copyFileSync(binary, copy);
    chmodSync(copy, 0o755);
    return copy;
  }

  const exeLink = (pid: number) => {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return undefined;
    }
  };

  it('a process that execs another binary under the same name (same PID, same comm) is read as the new image', async () => {
    const shell = realpathSync('/bin/sh');
    // Named like the shell, so the kernel's comm stays "sh" across the exec.
    const implant = copyOf('/usr/bin/sleep', 'sh');
    const child = spawnOwned('/bin/sh', ['-c', `read line; exec ${implant} 300`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid!;
    const { reader, read } = trustingReader();
    await eventually(async () => (await read(pid))?.exe.kind === 'path', { what: 'the shell read' });
    await read(pid);
    expect(await read(pid)).toMatchObject({ comm: 'sh', exe: { path: shell } });
    child.stdin!.write('go\n');
    await eventually(() => exeLink(pid) === implant, { what: 'the exec' });
    expect(await read(pid)).toMatchObject({ comm: 'sh', exe: { kind: 'path', path: implant, deleted: false } });
    reader.close();
  });

  it('a binary deleted, or replaced by another file, under a process already read is seen at the next read', async () => {
    for (const how of ['deleted', 'replaced'] as const) {
      const copy = copyOf('/usr/bin/sleep', 'sleep');
      const pid = spawnOwned(copy, ['300']).pid!;
      await eventually(() => exeLink(pid) === copy, { what: 'the exec' });
      const { reader, read } = trustingReader();
      await read(pid);
      await read(pid);
      expect((await read(pid))?.exe).toEqual({ kind: 'path', path: copy, deleted: false });
      if (how === 'deleted') unlinkSync(copy);
      else renameSync(copyOf('/usr/bin/true', 'true'), copy);
      expect((await read(pid))?.exe).toEqual({ kind: 'path', path: copy, deleted: true });
      reader.close();
    }
  });

  it('memory a process takes after it was read is in the next read', async () => {
    const child = spawnOwned(
      process.execPath,
      [
        '-e',
        'const held = []; process.stdin.on("data", () => { held.push(Buffer.alloc(64 * 2 ** 20, 1)); console.log("grown"); }); console.log("up");',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    await waitForOutput(child, /up/);
    const pid = child.pid!;
    const { reader, read } = trustingReader();
    await read(pid);
    const before = (await read(pid))!.rssBytes;
    child.stdin!.write('grow\n');
    await waitForOutput(child, /grown/);
    expect((await read(pid))!.rssBytes).toBeGreaterThanOrEqual(before + 60 * 2 ** 20);
    reader.close();
  });

  it('a chroot without an exec, in a mount namespace of its own, is seen at the periodic refresh: the root is kept between', async () => {
    const jail = tempDir();
    let clock = 1_000_000;
    const reader = new ProcessReader('/proc', { youngSeconds: 0, maxCacheAgeMs: 60_000, now: () => clock, random: () => 0 });
    const read = async (pid: number) => (await reader.readAll(readOwnMounts('/proc'))).processes.find((p) => p.pid === pid);
    // unshare execs perl, which chroots itself when told to and goes on running the same image.
    const perl = `$| = 1; print "ready\\n"; <STDIN>; chroot("${jail}") or die "chroot: $!"; print "in\\n"; sleep 300`;
    const child = spawnOwned('unshare', ['-m', '--propagation', 'private', 'perl', '-e', perl], { stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid!;
    await waitForOutput(child, /ready/);
    const hostRoot = directoryIdentity('/');
    await eventually(async () => (await read(pid))?.root?.kind === 'directory', { what: 'the root read' });
    expect((await read(pid))?.root).toEqual({ kind: 'directory', identity: hostRoot });

    child.stdin!.write('go\n');
    await waitForOutput(child, /^in$/m);
    // Nothing in stat or the namespace link shows a chroot: the root read before is kept...
    expect((await read(pid))?.root).toEqual({ kind: 'directory', identity: hostRoot });
    // ...until the process's periodic refresh, which reads it again.
    clock += 60_000;
    expect((await read(pid))?.root).toEqual({ kind: 'directory', identity: directoryIdentity(jail) });
    reader.close();
  });
});

describe('the hidden-process sweep on the live host', () => {
  it('does not even look at the threads of a listed process: a process with 64 threads adds no candidate', async () => {
    // libuv starts its whole pool at the first file operation.
    const threaded = spawnOwned(
      process.execPath,
      ['-e', 'require("fs").stat("/", () => console.log("up")); setInterval(() => {}, 60000)'],
      {
        env: { ...process.env, UV_THREADPOOL_SIZE: '64' },
      },
    );
    await waitForOutput(threaded, /up/);
    const tids = readdirSync(`/proc/${threaded.pid}/task`)
      .map(Number)
      .filter((tid) => tid !== threaded.pid);
    expect(tids.length).toBeGreaterThanOrEqual(64);
    const result = await sweepHiddenProcesses({ procfs: '/proc', pidMax: pidMax(), comparePs: false });
    expect(result.candidates.filter((pid) => tids.includes(pid))).toEqual([]);
  });

  it('sweeps the live host without calling its threads hidden', async () => {
    // This test process has threads (libuv's pool, V8's workers): their IDs exist but are not listed.
    expect(readdirSync(`/proc/${process.pid}/task`).length).toBeGreaterThan(1);
    const result = await sweepHiddenProcesses({ procfs: '/proc', pidMax: pidMax(), comparePs: false });
    expect(result.probe).toBe('kill+lookup');
    expect(result.hidden.filter((h) => h.pid === process.pid || h.view === 'listing')).toEqual([]);
  });
});

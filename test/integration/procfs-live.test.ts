import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sweepHiddenProcesses } from '../../src/processes/hidden-sweep.js';
import { ProcessReader } from '../../src/procfs/process-reader.js';
import { readProcess, readProcessTable } from '../../src/procfs/process-table.js';
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

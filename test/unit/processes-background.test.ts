import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { confirmHidden, hiddenFindings, type PidLook } from '../../src/processes/hidden.js';
import { stillAlive, sweepHiddenProcesses } from '../../src/processes/hidden-sweep.js';
import type { StartVerdict } from '../../src/processes/judge.js';
import { StartWatcher, type StartExamination } from '../../src/processes/start-watcher.js';

const look = (overrides: Partial<PidLook> = {}): PidLook => ({
  pid: 4321,
  alive: true,
  listed: true,
  statReadable: true,
  tgid: 4321,
  tgidListed: true,
  startTicks: 1000,
  inPs: true,
  comm: 'x',
  ...overrides,
});

describe('hidden processes, judged from two looks', () => {
  it('a PID the kernel knows but /proc does not list is hidden from the listing', () => {
    expect(confirmHidden(look({ listed: false }), look({ listed: false }))).toEqual({
      pid: 4321,
      view: 'listing',
      comm: 'x',
      startTicks: 1000,
    });
  });

  it('a thread is not hidden: only its thread group is listed', () => {
    expect(confirmHidden(look({ listed: false, tgid: 4000 }), look({ listed: false, tgid: 4000 }))).toBeUndefined();
    // ... unless its thread group is not listed either.
    expect(
      confirmHidden(look({ listed: false, tgid: 4000, tgidListed: false }), look({ listed: false, tgid: 4000, tgidListed: false }))?.view,
    ).toBe('listing');
  });

  it('a listed, living PID without its /proc files is masked; one absent from ps is hidden from ps', () => {
    expect(
      confirmHidden(look({ statReadable: false, startTicks: undefined }), look({ statReadable: false, startTicks: undefined }))?.view,
    ).toBe('procfs_entry');
    expect(confirmHidden(look({ inPs: false }), look({ inPs: false }))?.view).toBe('ps');
  });

  it('transient PIDs are not hidden: the second look must agree, on the same process', () => {
    // Started after the listing: listed on the second look.
    expect(confirmHidden(look({ listed: false }), look())).toBeUndefined();
    // Exited between the looks.
    expect(confirmHidden(look({ inPs: false }), look({ alive: false, inPs: false }))).toBeUndefined();
    // The PID reused in between.
    expect(confirmHidden(look({ inPs: false }), look({ inPs: false, startTicks: 2000 }))).toBeUndefined();
  });

  it('says what each view means in the finding', () => {
    const [finding] = hiddenFindings([{ pid: 31337, view: 'procfs_entry', comm: 'miner', startTicks: undefined }]);
    expect(finding).toMatchObject({
      collector: 'processes',
      kind: 'hidden_process',
      severity: 'critical',
      subject: { pid: 31337, view: 'procfs_entry' },
    });
    expect(finding!.message).toContain('PID 31337 (miner): the PID is listed and alive, but /proc/PID shows no process files');
  });

  it('sweeps a fixture procfs by lookup and finds the masked entry', async () => {
    const procfs = new URL('../fixtures/processes/proc', import.meta.url).pathname;
    const result = await sweepHiddenProcesses({ procfs, pidMax: 1024, comparePs: true });
    expect(result.probe).toBe('lookup');
    // ps reads our own /proc, not this tree: it is not compared.
    expect(result.psCompared).toBe(false);
    expect(result.hidden).toEqual([{ pid: 950, view: 'procfs_entry', comm: undefined, startTicks: undefined }]);
  });

  it('a finding leaves with its process: a new process that reuses the hidden PID is not reported', () => {
    const procfs = mkdtempSync(join(tmpdir(), 'hostguard-hidden-'));
    try {
      const stat = (startTicks: number, comm: string) =>
        `4321 (${comm}) S 1 4321 4321 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 1000 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;
      mkdirSync(join(procfs, '4321'));
      writeFileSync(join(procfs, '4321', 'stat'), stat(1000, 'miner'));
      const hidden = { pid: 4321, startTicks: 1000 };
      expect(stillAlive(procfs, hidden)).toBe(true);
      // The miner exits and an innocent process is given its PID.
      writeFileSync(join(procfs, '4321', 'stat'), stat(2000, 'cron'));
      expect(stillAlive(procfs, hidden)).toBe(false);
      // A masked entry (no stat, no start time recorded) lives as long as the PID does.
      expect(stillAlive(procfs, { pid: 4321, startTicks: undefined })).toBe(true);
      rmSync(join(procfs, '4321'), { recursive: true });
      expect(stillAlive(procfs, hidden)).toBe(false);
    } finally {
      rmSync(procfs, { recursive: true, force: true });
    }
  });
});

describe('the watch of new PIDs', () => {
  function watcher(pidsByTick: number[][], verdicts: Record<number, StartExamination | undefined>) {
    const counted: StartVerdict[] = [];
    const examined: number[][] = [];
    let tick = 0;
    const w = new StartWatcher({
      listPids: () => pidsByTick[Math.min(tick++, pidsByTick.length - 1)]!,
      examine: async (pids) => {
        examined.push([...pids]);
        const results = new Map<number, StartExamination>();
        for (const pid of pids) if (verdicts[pid]) results.set(pid, verdicts[pid]!);
        return results;
      },
      count: (v) => counted.push(v),
      log: silentLogger,
    });
    return { w, counted, examined };
  }

  it('learns the PIDs on its first look, then examines and counts only new ones', async () => {
    const { w, counted, examined } = watcher(
      [
        [1, 2, 3],
        [1, 2, 3, 10, 11],
        [1, 2, 3, 10, 12],
      ],
      { 10: { verdict: 'unknown_executable', exeKey: '/tmp/x' }, 11: { verdict: 'known', exeKey: '/usr/bin/ls' }, 12: undefined },
    );
    await w.tick();
    await w.tick();
    await w.tick();
    // 12 was gone before it could be read; 10 is looked at again once (an exec after the first look would count).
    expect(examined).toEqual([
      [10, 11],
      [12, 10],
    ]);
    expect(counted).toEqual(['unknown_executable', 'known', 'unexamined']);
  });

  it('knows the PIDs from the moment it starts, so the first process after that is counted', async () => {
    const { w, counted } = watcher(
      [
        [1, 2],
        [1, 2, 30],
      ],
      { 30: { verdict: 'name_mismatch', exeKey: '/usr/bin/perl' } },
    );
    w.start(60_000);
    await w.tick();
    w.stop();
    expect(counted).toEqual(['name_mismatch']);
  });

  it('counts an exec seen on the second look as a start of the new program', async () => {
    const exams: Record<number, StartExamination> = { 20: { verdict: 'known', exeKey: '/usr/bin/bash' } };
    const { w, counted } = watcher([[1], [1, 20], [1, 20]], exams);
    await w.tick();
    await w.tick();
    exams[20] = { verdict: 'writable_location', exeKey: '/dev/shm/payload' };
    await w.tick();
    expect(counted).toEqual(['known', 'writable_location']);
  });
});

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processesSectionSchema } from '../../src/config/sections/processes.js';
import { silentLogger } from '../../src/log/logger.js';
import { HostObserver } from '../../src/processes/observe.js';
import { ProcessReader } from '../../src/procfs/process-reader.js';
import { parseUptime } from '../../src/procfs/system.js';
import { tempDir } from '../helpers/cli.js';

const rootfs = new URL('../fixtures/processes/rootfs', import.meta.url).pathname;

/** A procfs tree whose boot time and uptime the test sets, as the kernel would after a clock step. */
class SteppedProcfs {
  readonly root = tempDir();

  setClock(btime: number, uptime: number): void {
    writeFileSync(join(this.root, 'stat'), `cpu  1 0 1 10 0 0 0 0 0 0\nbtime ${btime}\nprocesses 10\n`);
    writeFileSync(join(this.root, 'uptime'), `${uptime.toFixed(2)} 10.00\n`);
  }

  /** A process started `startTicks` ticks (1/100 s) after boot, running /usr/sbin/worker as `uid`. */
  addProcess(pid: number, startTicks: number, uid: number): void {
    const dir = join(this.root, String(pid));
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'stat'),
      `${pid} (worker) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${startTicks} 1000 250 0 1 1\n`,
    );
    writeFileSync(join(dir, 'statm'), '2442 250 150 12 0 100 0\n');
    writeFileSync(join(dir, 'cmdline'), 'worker\0');
    symlinkSync('/usr/sbin/worker', join(dir, 'exe'));
    this.setUid(pid, uid);
  }

  setUid(pid: number, uid: number): void {
    writeFileSync(
      join(this.root, String(pid), 'status'),
      `Name:\tworker\nTgid:\t${pid}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\n`,
    );
  }
}

function byPid<T extends { readonly pid: number }>(processes: readonly T[], pid: number): T | undefined {
  return processes.find((p) => p.pid === pid);
}

describe('a wall clock stepped while the exporter runs (NTP after a boot without a real-time clock)', () => {
  const boot = 1_700_000_000;

  it('reads /proc/uptime', () => {
    expect(parseUptime('350735.47 234388.90\n')).toBe(350_735.47);
    expect(() => parseUptime('soon\n', '/proc/uptime')).toThrow('/proc/uptime: not an uptime: "soon"');
  });

  it('still re-reads a young worker after a forward step, so it is not cached as root once it drops privileges', async () => {
    const procfs = new SteppedProcfs();
    procfs.setClock(boot, 100);
    procfs.addProcess(1, 1, 0);
    let clock = (boot + 100) * 1000;
    const reader = new ProcessReader(procfs.root, { now: () => clock, random: () => 0 });
    await reader.readAll();

    // NTP steps the clock an hour forward; the kernel moves btime with it. A worker starts as root.
    clock += 3_601_000;
    procfs.setClock(boot + 3600, 101);
    procfs.addProcess(300, 10_050, 0);
    const started = byPid((await reader.readAll()).processes, 300);
    expect(started).toMatchObject({ euid: 0, startedAt: boot + 3600 + 100.5 });

    // Two seconds later it has dropped root: it is one second old by uptime, so it is read again.
    clock += 2000;
    procfs.setClock(boot + 3600, 103);
    procfs.setUid(300, 33);
    expect(byPid((await reader.readAll()).processes, 300)?.euid).toBe(33);
    reader.close();
  });

  it('keeps a process the same process when btime moves back, with its start time on the new wall clock', async () => {
    const procfs = new SteppedProcfs();
    const now = Math.floor(Date.now() / 1000);
    procfs.setClock(now - 1000, 1000);
    procfs.addProcess(1, 1, 0);
    procfs.addProcess(300, 50_000, 33);
    const observer = new HostObserver({ procfs: procfs.root, rootfs, stateDir: tempDir() }, silentLogger);
    const section = processesSectionSchema.parse({});
    const first = byPid((await observer.observe(section)).view.processes, 300);
    expect(first?.startedAt).toBe(now - 1000 + 500);

    // The clock is stepped an hour back: same PID, same start ticks, so the same process.
    procfs.setClock(now - 1000 - 3600, 1001);
    const second = byPid((await observer.observe(section)).view.processes, 300);
    expect(second).toBe(first);
    // A package upgrade after the step (ctime on the new clock) must compare with the new start time.
    expect(second?.startedAt).toBe(now - 1000 - 3600 + 500);
    observer.close();
  });
});

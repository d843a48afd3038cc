import { appendFileSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { processesSectionSchema } from '../../src/config/sections/processes.js';
import { silentLogger } from '../../src/log/logger.js';
import { HostObserver } from '../../src/processes/observe.js';
import { tempDir } from '../helpers/cli.js';

/** Every statSync and readFileSync the code under test makes, by path, while `counting` is on. */
const fsCalls = vi.hoisted(() => ({ counting: false, stat: [] as string[], read: [] as string[] }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const counted = <F extends (...args: never[]) => unknown>(calls: 'stat' | 'read', real: F): F =>
    ((...args: Parameters<F>) => {
      if (fsCalls.counting) fsCalls[calls].push(String(args[0]));
      return real(...args);
    }) as F;
  const statSync = counted('stat', fs.statSync);
  const readFileSync = counted('read', fs.readFileSync);
  return { ...fs, statSync, readFileSync, default: { ...fs, statSync, readFileSync } };
});

const fixtureRootfs = new URL('../fixtures/processes/rootfs', import.meta.url).pathname;

/** A host with `count` workers, each as its own regular user (uid 2000 + i) with a home in passwd. */
function hostWithWorkers(count: number): { procfs: string; rootfs: string } {
  const procfs = tempDir();
  const rootfs = tempDir();
  cpSync(fixtureRootfs, rootfs, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(procfs, 'stat'), `btime 1700000000\n`);
  for (let i = 0; i < count; i++) {
    const pid = 1000 + i;
    const uid = 2000 + i;
    const dir = join(procfs, String(pid));
    mkdirSync(dir);
    writeFileSync(join(dir, 'stat'), `${pid} (worker) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 250 0 1 1\n`);
    writeFileSync(join(dir, 'statm'), '2442 250 150 12 0 100 0\n');
    writeFileSync(
      join(dir, 'status'),
      `Name:\tworker\nTgid:\t${pid}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\n`,
    );
    writeFileSync(join(dir, 'cmdline'), 'worker\0');
    symlinkSync('/usr/bin/worker', join(dir, 'exe'));
    appendFileSync(join(rootfs, 'etc/passwd'), `worker${i}:x:${uid}:${uid}::/home/worker${i}:/bin/sh\n`);
  }
  return { procfs, rootfs };
}

const section = processesSectionSchema.parse({ writable_locations: { home_directories: true } });

/** The file-system calls of one look after the first (steady state). */
async function callsOfASteadyLook(workers: number): Promise<{ stat: string[]; read: string[] }> {
  const { procfs, rootfs } = hostWithWorkers(workers);
  const observer = new HostObserver({ procfs, rootfs, stateDir: tempDir() }, silentLogger);
  await observer.observe(section);
  fsCalls.stat = [];
  fsCalls.read = [];
  fsCalls.counting = true;
  try {
    const { view } = await observer.observe(section);
    expect(view.processes).toHaveLength(workers);
    expect(view.homeDirectories).toHaveLength(workers + 2);
  } finally {
    fsCalls.counting = false;
    observer.close();
  }
  return { stat: fsCalls.stat, read: fsCalls.read };
}

describe('user names in a look at the process table', () => {
  it("cost the same few file-system calls whether the host runs 5 users' processes or 50", async () => {
    const few = await callsOfASteadyLook(5);
    const many = await callsOfASteadyLook(50);
    expect([many.stat.length, many.read.length]).toEqual([few.stat.length, few.read.length]);
    // passwd and login.defs: one signature check each, and no read when neither changed.
    const userFiles = (paths: string[]) => paths.filter((p) => /etc\/(passwd|login\.defs)$/.test(p)).map((p) => p.replace(/.*\/etc\//, ''));
    expect(userFiles(many.stat).sort()).toEqual(['login.defs', 'passwd']);
    expect(userFiles(many.read)).toEqual([]);
  });

  it('still follow passwd when it changes between looks', async () => {
    const { procfs, rootfs } = hostWithWorkers(3);
    const observer = new HostObserver({ procfs, rootfs, stateDir: tempDir() }, silentLogger);
    const userOf = (view: { processes: readonly { pid: number; user: string; userClass: string }[] }) =>
      view.processes.find((p) => p.pid === 1002);
    expect(userOf((await observer.observe(section)).view)).toMatchObject({ user: 'worker2', userClass: 'regular' });
    // worker2 is renamed carol and her home moves; a new size makes the change visible at once.
    const passwd = join(rootfs, 'etc/passwd');
    const { readFileSync } = await vi.importActual<typeof import('node:fs')>('node:fs');
    writeFileSync(
      passwd,
      readFileSync(passwd, 'utf8').replace('worker2:x:2002:2002::/home/worker2:', 'carol:x:2002:2002:Carol:/srv/carol:'),
    );
    const { view } = await observer.observe(section);
    expect(userOf(view)).toMatchObject({ user: 'carol', userClass: 'regular' });
    expect(view.homeDirectories).toContain('/srv/carol');
    expect(view.homeDirectories).not.toContain('/home/worker2');
    observer.close();
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { tempDir } from './cli.js';
import { requireTool } from './tools.js';
import { waitForOutput } from './wait-for-output.js';

const fixtures = new URL('../fixtures/stall-fs/', import.meta.url).pathname;
/** Debian's interpreter, where python3-fusepy installs (a python3 earlier on PATH may lack it). */
const python = '/usr/bin/python3';

/** A FUSE file system mounted by a test, which stops answering on demand (test/fixtures/stall-fs/stallfs.py). */
export interface StallFs {
  /** The directory it passes through: write files here. */
  readonly backing: string;
  readonly mountPoint: string;
  /** From now on every operation waits (`read`: only opening and reading a file's content). */
  stall(what?: 'all' | 'read'): void;
  resume(): void;
  /** A process run by the test from this file system, or using it: killed, after the stall is lifted, by the cleanup. */
  own(child: ChildProcess): ChildProcess;
}

interface Mounted {
  readonly fs: StallFs;
  readonly server: ChildProcess;
  readonly control: string;
  readonly users: ChildProcess[];
}

const mounted: Mounted[] = [];

/**
 * Mount a stall file system over a fresh backing directory (filled by `fill` before mounting).
 * Removed after each test, also when it fails: the stall is lifted first (so every process waiting
 * on it wakes), then the processes it owns are killed by PID, then it is unmounted lazily
 * (fusermount -u -z, else umount -l) and its server killed by PID.
 */
export async function mountStallFs(fill: (backing: string) => void = () => {}): Promise<StallFs> {
  requireTool('fusermount', 'fuse3');
  if (spawnSync(python, ['-c', 'import fusepy'], { stdio: 'ignore' }).status !== 0)
    throw new Error(
      'python3-fusepy is not installed: run `apt-get install python3-fusepy` (scripts/install-test-deps does it for all tests)',
    );
  const dir = tempDir('hostguard-stallfs-');
  const backing = join(dir, 'backing');
  const mountPoint = join(dir, 'mnt');
  const control = join(dir, 'stall');
  mkdirSync(backing);
  mkdirSync(mountPoint);
  fill(backing);
  const server = spawn(python, [join(fixtures, 'stallfs.py'), backing, mountPoint, control], { stdio: ['ignore', 'pipe', 'pipe'] });
  const users: ChildProcess[] = [];
  const fs: StallFs = {
    backing,
    mountPoint,
    stall: (what = 'all') => writeFileSync(control, what === 'read' ? 'read\n' : 'all\n'),
    resume: () => rmSync(control, { force: true }),
    own: (child) => {
      users.push(child);
      return child;
    },
  };
  mounted.push({ fs, server, control, users });
  await waitForOutput(server, /READY/, 20_000);
  return fs;
}

/**
 * A python3 process run from the stall file system that faults on a file of it while it holds its
 * own memory-map lock (test/fixtures/stall-fs/victim.py): once the file system stalls, reading its
 * cmdline blocks, as `ps` does. The interpreter itself is a copy on the stall file system, so its
 * executable lies there too.
 */
export async function startVictim(fs: StallFs): Promise<{ child: ChildProcess; pid: number; exe: string }> {
  const exe = join(fs.mountPoint, 'python3');
  if (!existsSync(join(fs.backing, 'python3'))) {
    copyFileSync(python, join(fs.backing, 'python3'));
    copyFileSync(join(fixtures, 'victim.py'), join(fs.backing, 'victim.py'));
    writeFileSync(join(fs.backing, 'data'), Buffer.alloc(4 << 20, 7));
  }
  const child = fs.own(spawn(exe, [join(fs.mountPoint, 'victim.py'), join(fs.mountPoint, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const match = await waitForOutput(child, /(\d+) READY/, 20_000);
  return { child, pid: Number(match[1]), exe };
}

/** The state letter of a process from /proc/PID/stat (which never waits on the process). */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

async function unmountAll(): Promise<void> {
  for (const m of mounted.splice(0)) {
    m.fs.resume();
    for (const user of m.users) if (user.pid && user.exitCode === null && user.signalCode === null) process.kill(user.pid, 'SIGKILL');
    await Promise.all(m.users.map(exited));
    if (spawnSync('fusermount', ['-u', '-z', m.fs.mountPoint], { stdio: 'ignore' }).status !== 0)
      spawnSync('umount', ['-l', m.fs.mountPoint], { stdio: 'ignore' });
    if (m.server.pid && m.server.exitCode === null && m.server.signalCode === null) process.kill(m.server.pid, 'SIGKILL');
    await exited(m.server);
  }
}

afterEach(unmountAll);
afterAll(unmountAll);

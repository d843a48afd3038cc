import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

export { waitForOutput } from './wait-for-output.js';

const started = new Set<ChildProcess>();
const startedForFile = new Set<ChildProcess>();

/**
 * Spawn a process that the test owns: it is killed by PID after each test (and after the file),
 * also when the test fails.
 */
export function spawnOwned(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/**
 * Spawn a process shared by the tests of one file (a Prometheus, an Alertmanager): killed by PID
 * after the file, also when a test fails.
 */
export function spawnForFile(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  startedForFile.add(child);
  child.once('exit', () => startedForFile.delete(child));
  return child;
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // It may have exited on its own a moment ago, before its exit event: then there is nothing to signal.
  const signalIt = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(child.pid, sig);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  signalIt(signal);
  const timer = setTimeout(() => child.exitCode === null && signalIt('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

async function stopAll(children: Set<ChildProcess>): Promise<void> {
  await Promise.all([...children].map((c) => stopProcess(c, 'SIGKILL', 1000)));
}

afterEach(() => stopAll(started));
afterAll(async () => {
  await stopAll(started);
  await stopAll(startedForFile);
});

/**
 * A root directory of its own, `parent/rootfs`, holding a copy of sleep at /sleep and the libraries
 * it loads: the smallest container image, for `unshare --root` and runc.
 */
export function rootWithSleep(parent: string): string {
  const root = join(parent, 'rootfs');
  mkdirSync(root);
  for (const [, library] of execFileSync('ldd', ['/usr/bin/sleep'], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)) {
    mkdirSync(join(root, dirname(library!)), { recursive: true });
    copyFileSync(library!, join(root, library!));
  }
  copyFileSync('/usr/bin/sleep', join(root, 'sleep'));
  chmodSync(join(root, 'sleep'), 0o755);
  return root;
}

/**
 * Bytes a process has read and written so far, by any means (files, pipes), from /proc/PID/io
 * (rchar, wchar). With no scrape meanwhile, the growth of an exporter's rchar is what its
 * background followers read: a test waits on it instead of sleeping "long enough" for them.
 */
export function ioOf(pid: number): { read: number; written: number } {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { read: field('rchar'), written: field('wchar') };
}

/** An OCI bundle as `runc spec` writes it in `bundle` (an empty directory), whose root holds a copy of sleep: the smallest real container image. */
export function runcSleepBundle(runc: string, bundle: string, seconds: number): string {
  rootWithSleep(bundle);
  execFileSync(runc, ['spec', '--bundle', bundle]);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[] } };
  config.process.terminal = false;
  config.process.args = ['/sleep', String(seconds)];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}

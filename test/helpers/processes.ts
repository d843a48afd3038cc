import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
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

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (child.pid) process.kill(child.pid, signal);
  const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), graceMs);
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

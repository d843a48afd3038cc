import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';
import { spawnOwned, waitForOutput } from './processes.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const cliPath = join(repoRoot, 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the built CLI to completion, as an operator or a cron job would. */
export function runCli(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(cliPath, [...args], {
    input: options.input,
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 60_000,
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RunningExporter {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
}

/**
 * Start `serve` on a free loopback port (or the given one) and wait until it listens. A collection
 * may take 5 minutes unless the test says otherwise (`--collector.timeout`): what a test asserts
 * must not hang on serve's 10 s default, which a loaded machine can pass.
 */
export async function startExporter(
  args: readonly string[],
  options: { port?: number; spawn?: typeof spawnOwned } = {},
): Promise<RunningExporter> {
  const spawnIt = options.spawn ?? spawnOwned;
  const timeout = args.some((a) => a.startsWith('--collector.timeout')) ? [] : ['--collector.timeout', '5m'];
  const child = spawnIt(cliPath, ['--web.listen-address', `127.0.0.1:${options.port ?? 0}`, ...timeout, ...args]);
  const match = await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 60_000);
  const port = Number(match[1]);
  return { child, port, url: `http://127.0.0.1:${port}` };
}

const temporaryDirs: string[] = [];

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix = 'hostguard-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

/**
 * A fresh directory outside any temporary or world-writable place (under /var/lib, so root only),
 * removed after the test file: a binary copied there is unknown and nothing else is wrong with it.
 */
export function privateDir(): string {
  const dir = mkdtempSync('/var/lib/hostguard-test-');
  temporaryDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

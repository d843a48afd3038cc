import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rssBytes } from './measure.js';
import { repoRoot } from './servers.js';

/** Resident memory split into private (heap, stacks) and file-backed pages (mostly the node binary, shared and reclaimable). */
export interface Memory {
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
}

/** Node idling with the exporter's flags and environment, after running `script` (from the repository, so packages resolve). */
export async function idleNodeMemory(script = '', nodeFlags: readonly string[] = []): Promise<Memory> {
  const child = spawn(process.execPath, [...nodeFlags, '--max-semi-space-size=1', '-e', `${script}; setInterval(() => {}, 1000)`], {
    stdio: 'ignore',
    cwd: repoRoot,
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return memoryOf(child.pid!);
  } finally {
    child.kill();
  }
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: rssBytes(pid), anon: kib('RssAnon'), file: kib('RssFile') };
}

/** "total = private + file" */
export function memory(m: Memory): string {
  return `${mib(m.rss)} = ${mib(m.anon)} + ${mib(m.file)}`;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A script for idleNodeMemory that starts `count` idle worker threads, as a parallel scan would keep. */
export function idleWorkers(count: number): string {
  return `const { Worker } = require('node:worker_threads'); for (let i = 0; i < ${count}; i++) new Worker('setInterval(() => {}, 1000)', { eval: true })`;
}

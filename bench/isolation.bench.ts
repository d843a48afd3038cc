import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForOutput } from '../test/helpers/wait-for-output.js';
import { cpuSeconds, ms, summarize, type Timing } from './lib/measure.js';
import { idleNodeMemory, idleWorkers, memory, memoryOf, mib, type Memory } from './lib/memory.js';
import type { BenchResult } from './lib/report.js';
import { repoRoot } from './lib/servers.js';

/** The host: about 2,000 processes. */
const targetProcesses = 2000;
const budgetScrapes = 60;
const steadyScrapes = 100;
const rounds = 3;

/**
 * What isolating the reads that can block costs, before and after, in the same run: the exporter
 * with its default collectors on a host of ~2,000 processes, its resident memory after 60
 * back-to-back scrapes from start (the budget: ≤ 96 MiB), and its per-scrape time and CPU
 * once started. "Before" is the exporter built from the commit before the change, named by
 * HOSTGUARD_BEFORE (a dist/cli/main.js); without it only "after" is measured. Beside them, what each
 * way of isolating a read keeps resident: a worker thread, a helper process, libuv's pool.
 */
export default async function isolation(): Promise<BenchResult> {
  const before = process.env['HOSTGUARD_BEFORE'];
  const after = join(repoRoot, 'dist/cli/main.js');
  const sleepers = startSleepers(targetProcesses - processCount());
  try {
    // Past the reader's young-process window (5 s), as processes on a host mostly are.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const host = processCount();
    const runs: Record<'before' | 'after', ExporterRun[]> = { before: [], after: [] };
    for (let round = 0; round < rounds; round++) {
      if (before) runs.before.push(await runExporter(before));
      runs.after.push(await runExporter(after));
    }
    const floor = await idleNodeMemory();
    const oneWorker = await idleNodeMemory(idleWorkers(1));
    const pool8 = await idleNodeMemory("process.env.UV_THREADPOOL_SIZE = '8'; require('fs').readFile('/proc/self/stat', () => {})");
    const pool4 = await idleNodeMemory("require('fs').readFile('/proc/self/stat', () => {})");
    const rows = [];
    for (const [label, list] of Object.entries(runs) as ['before' | 'after', ExporterRun[]][]) {
      if (list.length === 0) continue;
      const m = medianBy(list, (r) => r.budget.rss);
      rows.push(
        {
          subject: `${label}: exporter RSS after ${budgetScrapes} back-to-back scrapes from start: total = private + file (median of ${list.length})`,
          figure: `${memory(m.budget)} (runs: ${list.map((r) => mib(r.budget.rss)).join(', ')})`,
          command: `dist/cli/main.js, default collectors, fresh --state.dir, ${budgetScrapes} sequential GET /metrics from the first answer, /proc/PID/status`,
        },
        {
          subject: `${label}: scrape p50 / p95 after that`,
          figure: `${ms(median(list.map((r) => r.steady.p50Ms)))} / ${ms(median(list.map((r) => r.steady.p95Ms)))}`,
          command: `${steadyScrapes} more sequential GET /metrics, median over runs`,
        },
        {
          subject: `${label}: exporter CPU per scrape after that`,
          figure: ms(median(list.map((r) => r.cpuMsPerScrape))),
          command: '/proc/PID/stat utime+stime over those scrapes',
        },
        {
          subject: `${label}: its helper processes (integrity scans) from start to the end of those scrapes: most at once, their largest total = private + file`,
          figure: `${m.helpers.most}, ${memory(m.helpers.peak)}`,
          command: 'children of the exporter every 100 ms, /proc/PID/status',
        },
        {
          subject: `${label}: helper processes left after the scrapes`,
          figure: String(m.helpers.left),
          command: 'children of the exporter',
        },
      );
    }
    rows.push(
      {
        subject: 'a bare idle node: total = private + file',
        figure: memory(floor),
        command: 'node --max-semi-space-size=1 -e "setInterval(() => {}, 1000)" (MALLOC_ARENA_MAX=2), after 1.5 s',
      },
      { subject: 'the same node with one idle worker thread', figure: memory(oneWorker), command: 'idleWorkers(1) in bench/lib/memory.ts' },
      {
        subject: "the same node after one fs job, libuv's pool of 4 / of 8 threads",
        figure: `${memory(pool4)} / ${memory(pool8)}`,
        command: 'fs.readFile once, UV_THREADPOOL_SIZE unset / 8',
      },
      {
        subject: 'processes on the host during the runs',
        figure: String(host),
        command: `ls /proc (${targetProcesses - host > 0 ? 'sleepers added' : 'as found'})`,
      },
    );
    const ratios = [
      `one worker thread keeps ${mib(oneWorker.anon - floor.anon)} private beside a bare node; four more threads in libuv's pool ${mib(pool8.rss - pool4.rss)} in all`,
    ];
    if (runs.before.length > 0) {
      const b = medianBy(runs.before, (r) => r.budget.rss).budget.rss;
      const a = medianBy(runs.after, (r) => r.budget.rss).budget.rss;
      ratios.push(`RSS after ${budgetScrapes} scrapes, after − before = ${mib(a - b)} (budget: ≤ 96 MiB after)`);
    }
    return { name: `Isolating reads that can block: before and after, default collectors, ~${targetProcesses} processes`, rows, ratios };
  } finally {
    for (const child of sleepers) child.kill('SIGKILL');
  }
}

interface ExporterRun {
  readonly budget: Memory;
  readonly steady: Timing;
  readonly cpuMsPerScrape: number;
  readonly helpers: { readonly most: number; readonly peak: Memory; readonly left: number };
}

async function runExporter(main: string): Promise<ExporterRun> {
  const stateDir = mkdtempSync(join(tmpdir(), 'hostguard-bench-isolation-'));
  const child = spawn(main, ['--web.listen-address', '127.0.0.1:0', '--state.dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const peak = { most: 0, memory: { rss: 0, anon: 0, file: 0 } as Memory };
  const sampler = setInterval(() => {
    const helpers = childrenOf(child.pid!);
    const total = helpers.map(memoryOrNothing).reduce(addMemory, { rss: 0, anon: 0, file: 0 });
    peak.most = Math.max(peak.most, helpers.length);
    if (total.rss > peak.memory.rss) peak.memory = total;
  }, 100);
  try {
    const port = (await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 120_000))[1];
    const scrape = () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    for (let i = 0; i < budgetScrapes; i++) await scrape();
    const budget = memoryOf(child.pid!);
    clearInterval(sampler);
    const cpuBefore = cpuSeconds(child.pid!);
    const samples: number[] = [];
    for (let i = 0; i < steadyScrapes; i++) {
      const started = performance.now();
      await scrape();
      samples.push(performance.now() - started);
    }
    const cpuMsPerScrape = ((cpuSeconds(child.pid!) - cpuBefore) / steadyScrapes) * 1000;
    return {
      budget,
      steady: summarize(samples),
      cpuMsPerScrape,
      helpers: { most: peak.most, peak: peak.memory, left: childrenOf(child.pid!).length },
    };
  } finally {
    clearInterval(sampler);
    await new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(undefined);
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function memoryOrNothing(pid: number): Memory {
  try {
    return memoryOf(pid);
  } catch {
    return { rss: 0, anon: 0, file: 0 }; // exited meanwhile
  }
}

function addMemory(a: Memory, b: Memory): Memory {
  return { rss: a.rss + b.rss, anon: a.anon + b.anon, file: a.file + b.file };
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(name));
    } catch {
      // gone
    }
  }
  return children;
}

function processCount(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

function startSleepers(count: number): ChildProcess[] {
  return Array.from({ length: Math.max(0, count) }, () => spawn('sleep', ['3600'], { stdio: 'ignore' }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function medianBy<T>(values: readonly T[], key: (v: T) => number): T {
  return [...values].sort((a, b) => key(a) - key(b))[Math.floor(values.length / 2)]!;
}

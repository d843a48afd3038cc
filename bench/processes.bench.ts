import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { processesCollector } from '../src/collectors/processes.js';
import { Exporter } from '../src/exporter.js';
import { silentLogger } from '../src/log/logger.js';
import { sweepHiddenProcesses } from '../src/processes/hidden-sweep.js';
import { buildPackageIndex } from '../src/processes/package-index.js';
import { readPidMax } from '../src/procfs/system.js';
import { cpuSeconds, ms, rssBytes, summarize, timeAsync, timeCommand } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { startHostguard, startNodeExporter } from './lib/servers.js';

const sleepers = 1000;
const runs = 100;

/**
 * The processes collector at ~1,000 processes, beside `ps aux` (and node_exporter's processes
 * collector) in the same run: the collector's own work per scrape and how long it holds the event
 * loop, whole-exporter scrapes and resident memory, the hidden-process sweep, the package index.
 */
export default async function processes(): Promise<BenchResult> {
  const children = await startSleepers(sleepers);
  const stateDir = mkdtempSync(join(tmpdir(), 'hostguard-bench-processes-'));
  try {
    const processCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    const psAux = timeCommand('ps', ['aux'], 30);

    const collector = await collectorWork(stateDir);
    const sweep = await sweepWork();
    const index = await indexWork();

    const args = ['--state.dir', stateDir, '--collector.disable-defaults'];
    const withProcesses = await scrapeExporter([...args, '--collector.processes']);
    const bare = await scrapeExporter(args);
    const nodeExporter = await scrapeNodeExporter();

    return {
      name: `Processes collector at ${processCount} processes (${sleepers} of them sleepers started by the benchmark) vs ps aux`,
      rows: [
        { subject: '`ps aux`, wall p50 / p95', figure: `${ms(psAux.p50Ms)} / ${ms(psAux.p95Ms)}`, command: 'ps aux, 30 runs' },
        { subject: 'collector work per scrape, wall p50 / p95', figure: `${ms(collector.wall.p50Ms)} / ${ms(collector.wall.p95Ms)}`, command: `collect() in process, ${runs} runs` },
        { subject: 'collector work per scrape, CPU mean', figure: ms(collector.cpuMs), command: 'process.cpuUsage() over the runs' },
        { subject: 'longest event-loop block during those runs', figure: ms(collector.maxBlockMs), command: 'monitorEventLoopDelay, max' },
        { subject: 'hostguard-exporter scrape (processes only), p50 / p95', figure: `${ms(withProcesses.timing.p50Ms)} / ${ms(withProcesses.timing.p95Ms)}`, command: `${runs} sequential GET /metrics` },
        { subject: 'hostguard-exporter CPU per scrape (processes only)', figure: ms(withProcesses.cpuMs), command: '/proc/PID/stat utime+stime over the run' },
        { subject: 'hostguard-exporter RSS after the run (processes only)', figure: mib(withProcesses.rss), command: '/proc/PID/status VmRSS' },
        { subject: 'hostguard-exporter RSS after the run (no collector)', figure: mib(bare.rss), command: '/proc/PID/status VmRSS' },
        { subject: 'node_exporter scrape (processes collector only), p50 / p95', figure: `${ms(nodeExporter.timing.p50Ms)} / ${ms(nodeExporter.timing.p95Ms)}`, command: `${runs} sequential GET /metrics` },
        { subject: 'node_exporter CPU per scrape (processes collector only)', figure: ms(nodeExporter.cpuMs), command: '/proc/PID/stat utime+stime over the run' },
        { subject: `hidden-process sweep, pid_max ${sweep.pidMax}, p50 / max`, figure: `${ms(sweep.timing.p50Ms)} / ${ms(sweep.maxMs)}`, command: 'sweepHiddenProcesses (kill(0) + lookup per PID, ps twice at most), 5 runs' },
        { subject: 'load average (1, 5, 15 min) at the end of the run', figure: loadAverage(), command: '/proc/loadavg' },
        { subject: 'package index build (dpkg file lists)', figure: `${ms(index.ms)}, ${index.paths} paths, ${mib(index.bytes)} kept`, command: 'buildPackageIndex("/")' },
      ],
      ratios: [
        `collector work p50 / ps aux p50 = ${(collector.wall.p50Ms / psAux.p50Ms).toFixed(2)}`,
        `hostguard scrape p50 / node_exporter scrape p50 = ${(withProcesses.timing.p50Ms / nodeExporter.timing.p50Ms).toFixed(2)}`,
        `RSS with the processes collector − RSS without = ${mib(withProcesses.rss - bare.rss)}`,
      ],
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Real sleeping processes, so the host has the ~1,000 of the targets. */
async function startSleepers(count: number): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn('sleep', ['3600'], { stdio: 'ignore' });
    children.push(child);
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return children;
}

async function collectorWork(stateDir: string) {
  const exporter = new Exporter({
    paths: { procfs: '/proc', rootfs: '/', stateDir },
    policyFile: undefined,
    collectors: [processesCollector],
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: 'bench', revision: 'bench' },
  });
  await exporter.acceptCurrentState('operator');
  const collector = exporter.collectors[0]!;
  const collect = () => collector.collect(exporter.context());
  for (let i = 0; i < 5; i++) await collect();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuBefore = process.cpuUsage();
  const wall = await timeAsync(collect, runs, 0);
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  await exporter.stop();
  return { wall, cpuMs: (cpu.user + cpu.system) / 1000 / runs, maxBlockMs: delay.max / 1e6 };
}

async function sweepWork() {
  const pidMax = readPidMax('/proc');
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await sweepHiddenProcesses({ procfs: '/proc', pidMax, comparePs: true });
    samples.push(performance.now() - started);
  }
  return { pidMax, timing: summarize(samples), maxMs: Math.max(...samples) };
}

async function indexWork() {
  const started = performance.now();
  const index = await buildPackageIndex('/');
  return { ms: performance.now() - started, paths: index.size, bytes: index.size * 8 };
}

async function scrapeExporter(args: string[]) {
  const server = await startHostguard(args);
  try {
    const fetchMetrics = () => fetch(`${server.url}/metrics`).then((r) => r.text());
    const cpuBefore = cpuSeconds(server.child.pid!);
    const timing = await timeAsync(fetchMetrics, runs);
    const cpuMs = ((cpuSeconds(server.child.pid!) - cpuBefore) / (runs + 3)) * 1000;
    return { timing, cpuMs, rss: rssBytes(server.child.pid!) };
  } finally {
    await server.stop();
  }
}

async function scrapeNodeExporter() {
  const server = await startNodeExporter(19100 + Math.floor(Math.random() * 800), ['--collector.disable-defaults', '--collector.processes']);
  try {
    const cpuBefore = cpuSeconds(server.child.pid!);
    const timing = await timeAsync(() => fetch(`${server.url}/metrics`).then((r) => r.text()), runs);
    return { timing, cpuMs: ((cpuSeconds(server.child.pid!) - cpuBefore) / (runs + 3)) * 1000 };
  } finally {
    await server.stop();
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The machine is shared while these figures are taken: the load says how busy it was. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(', ');
}

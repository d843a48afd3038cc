import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { processesCollector } from '../src/collectors/processes.js';
import { Exporter } from '../src/exporter.js';
import { silentLogger } from '../src/log/logger.js';
import { sweepHiddenProcesses } from '../src/processes/hidden-sweep.js';
import { buildPackageIndex } from '../src/processes/package-index.js';
import { readPidMax } from '../src/procfs/system.js';
import { cpuSeconds, ms, summarize, timeAsync, timeCommand } from './lib/measure.js';
import { idleNodeMemory, memory, memoryOf, mib } from './lib/memory.js';
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
  // Past the reader's young-process window (5 s), as processes on a host mostly are.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const stateDir = mkdtempSync(join(tmpdir(), 'hostguard-bench-processes-'));
  try {
    const processCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    const psAux = timeCommand('ps', ['aux'], 30);

    const collector = await collectorWork(stateDir);
    const against = baselineDist === undefined ? undefined : await collectorAgainstBaseline(stateDir, baselineDist);
    const sweep = await sweepWork();
    const index = await indexWork();

    const args = ['--state.dir', stateDir, '--collector.disable-defaults'];
    const withProcesses = await scrapeExporter([...args, '--collector.processes']);
    const atCadence = await scrapeAtCadence([...args, '--collector.processes']);
    const bare = await scrapeExporter(args);
    const idleNode = await idleNodeMemory();
    const packagesLoaded = await idleNodeMemory(`Promise.all(${JSON.stringify(servePackages)}.map((m) => import(m)))`);
    // What node-cron does on every schedule: format the time with Intl, which maps ICU's date data.
    const intlDates = await idleNodeMemory(
      `new Intl.DateTimeFormat('en-US', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short', hour12: false }).formatToParts(new Date())`,
    );
    // The floor of the stack the issue asks for: its packages, and the hidden-process sweep on a node-cron schedule.
    const withSchedule = `Promise.all(${JSON.stringify(servePackages)}.map((m) => import(m))).then(() => import('node-cron')).then((cron) => cron.createTask('*/5 * * * *', () => {}).start())`;
    const stackFloor = await idleNodeMemory(withSchedule);
    const stackFloorInterpreted = await idleNodeMemory(withSchedule, ['--jitless']);
    const nodeExporter = await scrapeNodeExporter();

    return {
      name: `Processes collector at ${processCount} processes (${sleepers} of them sleepers started by the benchmark) vs ps aux`,
      rows: [
        { subject: '`ps aux`, wall p50 / p95', figure: `${ms(psAux.p50Ms)} / ${ms(psAux.p95Ms)}`, command: 'ps aux, 30 runs' },
        {
          subject: 'collector work per scrape, wall p50 / p95',
          figure: `${ms(collector.wall.p50Ms)} / ${ms(collector.wall.p95Ms)}`,
          command: `collect() in process, ${runs} runs`,
        },
        { subject: 'collector work per scrape, CPU mean', figure: ms(collector.cpuMs), command: 'process.cpuUsage() over the runs' },
        ...(against ? baselineRows(against, baselineDist!, 'collector work per scrape') : []),
        {
          subject: 'event-loop delay during those runs, p99 / max',
          figure: `${ms(collector.p99BlockMs)} / ${ms(collector.maxBlockMs)}`,
          command: 'monitorEventLoopDelay (1 ms resolution)',
        },
        {
          subject: 'event-loop delay while idle for 3 s (the machine itself), max',
          figure: ms(collector.idleMaxMs),
          command: 'monitorEventLoopDelay, nothing of ours running',
        },
        {
          subject: 'hostguard-exporter scrape (processes only), p50 / p95',
          figure: `${ms(withProcesses.timing.p50Ms)} / ${ms(withProcesses.timing.p95Ms)}`,
          command: `${runs} sequential GET /metrics`,
        },
        {
          subject: 'hostguard-exporter CPU per scrape (processes only)',
          figure: ms(withProcesses.cpuMs),
          command: '/proc/PID/stat utime+stime over the run',
        },
        {
          subject: 'hostguard-exporter RSS after the run (processes only): total = private + file',
          figure: memory(withProcesses.memory),
          command: '/proc/PID/status VmRSS, RssAnon, RssFile',
        },
        {
          subject: `hostguard-exporter RSS scraped every ${cadenceSeconds} s, as Prometheus does (processes only): median (max) of ${cadenceScrapes} scrapes`,
          figure: `${mib(median(atCadence.map((m) => m.rss)))} (${mib(Math.max(...atCadence.map((m) => m.rss)))}); private ${mib(median(atCadence.map((m) => m.anon)))}`,
          command: `GET /metrics every ${cadenceSeconds} s, /proc/PID/status VmRSS and RssAnon after each`,
        },
        {
          subject: 'hostguard-exporter RSS after the run (no collector): total = private + file',
          figure: memory(bare.memory),
          command: '/proc/PID/status VmRSS, RssAnon, RssFile',
        },
        {
          subject: 'a bare idle node, the floor under any Node.js exporter: total = private + file',
          figure: memory(idleNode),
          command: 'node --max-semi-space-size=1 -e "setInterval(() => {}, 1000)" (MALLOC_ARENA_MAX=2, as the exporter runs), after 1 s',
        },
        {
          subject: 'the same node with the packages `serve` loads imported, nothing run',
          figure: memory(packagesLoaded),
          command: `import() of ${servePackages.join(', ')}, after 1.5 s`,
        },
        {
          subject: 'the same node after one Intl date format (how node-cron computes each run time)',
          figure: memory(intlDates),
          command: "new Intl.DateTimeFormat('en-US', {…}).formatToParts(new Date())",
        },
        {
          subject: 'the stack floor: the packages imported and one node-cron schedule started, none of our code',
          figure: memory(stackFloor),
          command: "import() of the packages, then cron.createTask('*/5 * * * *', …).start(), after 1.5 s",
        },
        {
          subject: 'the same floor with V8 interpreting only (--jitless, slower JavaScript)',
          figure: memory(stackFloorInterpreted),
          command: 'node --jitless --max-semi-space-size=1 …, the same script',
        },
        {
          subject: 'node_exporter scrape (processes collector only), p50 / p95',
          figure: `${ms(nodeExporter.timing.p50Ms)} / ${ms(nodeExporter.timing.p95Ms)}`,
          command: `${runs} sequential GET /metrics`,
        },
        {
          subject: 'node_exporter CPU per scrape (processes collector only)',
          figure: ms(nodeExporter.cpuMs),
          command: '/proc/PID/stat utime+stime over the run',
        },
        {
          subject: `hidden-process sweep, pid_max ${sweep.pidMax}, p50 / max`,
          figure: `${ms(sweep.timing.p50Ms)} / ${ms(sweep.maxMs)}`,
          command: 'sweepHiddenProcesses (kill(0) + lookup per PID, ps twice at most), 5 runs',
        },
        { subject: 'load average (1, 5, 15 min) at the end of the run', figure: loadAverage(), command: '/proc/loadavg' },
        {
          subject: 'package index build (dpkg file lists)',
          figure: `${ms(index.ms)}, ${index.paths} paths, ${mib(index.bytes)} kept`,
          command: 'buildPackageIndex("/")',
        },
      ],
      ratios: [
        `collector work p50 / ps aux p50 = ${(collector.wall.p50Ms / psAux.p50Ms).toFixed(2)}`,
        `hostguard scrape p50 / node_exporter scrape p50 = ${(withProcesses.timing.p50Ms / nodeExporter.timing.p50Ms).toFixed(2)}`,
        `RSS with the processes collector − RSS without = ${mib(withProcesses.memory.rss - bare.memory.rss)} (private ${mib(withProcesses.memory.anon - bare.memory.anon)})`,
        `RSS of node with the packages loaded − bare node = ${mib(packagesLoaded.rss - idleNode.rss)}; one Intl date format (node-cron's, on every schedule) adds ${mib(intlDates.rss - idleNode.rss)}`,
        `the issue's 64 MB (${mib(64e6)}) − the stack floor = ${mib(64e6 - stackFloor.rss)}; with --jitless ${mib(64e6 - stackFloorInterpreted.rss)}: what is left for the whole exporter`,
        `exporter scraped every ${cadenceSeconds} s − the stack floor = ${mib(median(atCadence.map((m) => m.rss)) - stackFloor.rss)}: the exporter's own resident cost with the processes collector`,
      ],
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Real sleeping processes, so the host has the ~1,000 of the targets. */
export async function startSleepers(count: number): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn('sleep', ['3600'], { stdio: 'ignore' });
    children.push(child);
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return children;
}

/** What a build of the exporter is made of, for the collector's work per scrape: this one's, or another dist's. */
interface Build {
  readonly Exporter: typeof Exporter;
  readonly processesCollector: typeof processesCollector;
  readonly silentLogger: typeof silentLogger;
}

const thisBuild: Build = { Exporter, processesCollector, silentLogger };

/** The processes collector of a build, accepted as it finds the host, ready to collect. */
async function collectorOf(build: Build, stateDir: string) {
  mkdirSync(stateDir, { recursive: true });
  const exporter = new build.Exporter({
    paths: { procfs: '/proc', rootfs: '/', stateDir },
    policyFile: undefined,
    collectors: [build.processesCollector],
    maxFindingSeries: 100,
    log: build.silentLogger,
    build: { version: 'bench', revision: 'bench' },
  });
  await exporter.acceptCurrentState('operator');
  const collector = exporter.collectors[0]!;
  return { exporter, collect: () => collector.collect(exporter.context()) };
}

/**
 * Another build to measure beside this one in the same run: HOSTGUARD_BENCH_BASELINE names its
 * dist directory (the main branch's, built with `npm run build`), whose node_modules resolve.
 */
export const baselineDist = process.env['HOSTGUARD_BENCH_BASELINE'];

/**
 * The collector's work per scrape, this build against the baseline's, interleaved in blocks of 10
 * (the order swapped every block), so both meet the same load on a shared machine.
 */
export async function collectorAgainstBaseline(stateDir: string, dist: string) {
  const other = (await Promise.all([
    import(join(dist, 'exporter.js')),
    import(join(dist, 'collectors/processes.js')),
    import(join(dist, 'log/logger.js')),
  ]).then(([e, c, l]) => ({ ...e, ...c, ...l }))) as Build;
  const sides = [
    { ...(await collectorOf(thisBuild, join(stateDir, 'this'))), samples: [] as number[], cpuMs: 0 },
    { ...(await collectorOf(other, join(stateDir, 'baseline'))), samples: [] as number[], cpuMs: 0 },
  ];
  for (const side of sides) for (let i = 0; i < 5; i++) await side.collect();
  const loads: number[] = [];
  const processCounts: number[] = [];
  for (let block = 0; block < runs / 10; block++) {
    loads.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
    processCounts.push(readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length);
    for (const side of block % 2 === 0 ? sides : [...sides].reverse()) {
      const cpuBefore = process.cpuUsage();
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        await side.collect();
        side.samples.push(performance.now() - started);
      }
      const cpu = process.cpuUsage(cpuBefore);
      side.cpuMs += (cpu.user + cpu.system) / 1000;
    }
  }
  for (const side of sides) await side.exporter.stop();
  const [current, baseline] = sides.map((side) => ({ wall: summarize(side.samples), cpuMs: side.cpuMs / side.samples.length }));
  const range = (values: number[]) => `${Math.min(...values)}–${Math.max(...values)}`;
  return { current: current!, baseline: baseline!, load: range(loads), processes: range(processCounts) };
}

/** Rows of collectorAgainstBaseline's figures. */
export function baselineRows(against: Awaited<ReturnType<typeof collectorAgainstBaseline>>, dist: string, what: string) {
  const figure = (side: typeof against.current) => `${ms(side.cpuMs)} CPU, ${ms(side.wall.p50Ms)} / ${ms(side.wall.p95Ms)} wall p50 / p95`;
  const command = `collect() in process, ${runs} runs each, interleaved in blocks of 10; ${against.processes} processes on the host, load average (1 min) ${against.load}`;
  return [
    { subject: `${what}: this build`, figure: figure(against.current), command },
    { subject: `${what}: the baseline build (${dist})`, figure: figure(against.baseline), command },
  ];
}

/** The processes collector's work per scrape, in process; also the containers benchmark's. */
export async function collectorWork(stateDir: string) {
  const { exporter, collect } = await collectorOf(thisBuild, stateDir);
  for (let i = 0; i < 5; i++) await collect();
  // The machine is shared: how long the loop waits when nothing of ours runs, for comparison.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  idle.disable();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuBefore = process.cpuUsage();
  const wall = await timeAsync(collect, runs, 0);
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  await exporter.stop();
  return {
    wall,
    cpuMs: (cpu.user + cpu.system) / 1000 / runs,
    maxBlockMs: delay.max / 1e6,
    p99BlockMs: delay.percentile(99) / 1e6,
    idleMaxMs: idle.max / 1e6,
  };
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
    return { timing, cpuMs, memory: memoryOf(server.child.pid!) };
  } finally {
    await server.stop();
  }
}

const cadenceSeconds = 15;
const cadenceScrapes = 10;

/** Resident memory as an operator sees it: scraped at a Prometheus interval, not back to back. */
async function scrapeAtCadence(args: string[]) {
  const server = await startHostguard(args);
  const samples: { rss: number; anon: number; file: number }[] = [];
  try {
    for (let i = 0; i < cadenceScrapes; i++) {
      await fetch(`${server.url}/metrics`).then((r) => r.text());
      samples.push(memoryOf(server.child.pid!));
      if (i < cadenceScrapes - 1) await new Promise((resolve) => setTimeout(resolve, cadenceSeconds * 1000));
    }
    return samples;
  } finally {
    await server.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function scrapeNodeExporter() {
  const server = await startNodeExporter(19100 + Math.floor(Math.random() * 800), [
    '--collector.disable-defaults',
    '--collector.processes',
  ]);
  try {
    const cpuBefore = cpuSeconds(server.child.pid!);
    const timing = await timeAsync(() => fetch(`${server.url}/metrics`).then((r) => r.text()), runs);
    return { timing, cpuMs: ((cpuSeconds(server.child.pid!) - cpuBefore) / (runs + 3)) * 1000 };
  } finally {
    await server.stop();
  }
}

/** The packages `serve` loads before any of the exporter's own code runs. */
export const servePackages = ['prom-client', 'express', 'zod', 'commander', 'js-yaml', 'node-cron'];

/** The machine is shared while these figures are taken: the load says how busy it was. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(', ');
}

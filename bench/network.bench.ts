import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import si from 'systeminformation';
import { networkCollector } from '../src/collectors/network.js';
import { Exporter } from '../src/exporter.js';
import { silentLogger } from '../src/log/logger.js';
import { sweepHiddenPorts } from '../src/network/hidden-ports.js';
import { createBindProbe } from '../src/network/port-probe.js';
import { observeNetwork } from '../src/network/observe.js';
import { SocketOwnerIndex } from '../src/network/socket-owner-index.js';
import { readNetTables } from '../src/procfs/net.js';
import { UserDirectory } from '../src/rootfs/users.js';
import { waitForOutput } from '../test/helpers/wait-for-output.js';
import { ms, summarize, timeCommand, type Timing } from './lib/measure.js';
import { idleNodeMemory, idleWorkers, memory } from './lib/memory.js';
import type { BenchResult } from './lib/report.js';

const sleepers = 1000;
const listenerProcesses = 20;
const listenersPerProcess = 10;
const rounds = 30;

/** A node process holding `count` TCP listeners on loopback, half IPv4, half IPv6. */
async function listenerProcess(count: number): Promise<ChildProcess> {
  const script = `
    const net = require('node:net');
    const listen = (host) => new Promise((resolve) => net.createServer().listen(0, host, resolve));
    Promise.all(Array.from({ length: ${count} }, (_, i) => listen(i % 2 ? '::1' : '127.0.0.1'))).then(() => console.log('READY'));
    setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  await waitForOutput(child, /READY/);
  return child;
}

function exporter(stateDir: string, policyFile?: string): Exporter {
  return new Exporter({
    paths: { procfs: '/proc', rootfs: '/', stateDir },
    policyFile,
    collectors: [networkCollector],
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: 'bench', revision: 'bench' },
  });
}

/** One collection by the network collector alone, as hostguard_scrape_collector_duration_seconds times it. */
async function collectorMs(e: Exporter): Promise<number> {
  const ctx = e.context();
  const start = performance.now();
  await e.collectors[0]!.collect(ctx);
  return performance.now() - start;
}

/**
 * How long the event loop waits during first collections alone, run back to back by collectors
 * built beforehand. The histogram runs throughout: one disabled and enabled again counts the whole
 * pause as its next sample. A timer turn after each collection counts its last slice.
 */
async function firstCollectionsDelay(stateDir: string, runs: number): Promise<{ p99Ms: number; maxMs: number }> {
  const fresh = Array.from({ length: runs }, () => exporter(stateDir));
  const turn = () => new Promise((resolve) => setTimeout(resolve, 2));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await turn();
  for (const e of fresh) {
    await collectorMs(e);
    await turn();
  }
  delay.disable();
  return { p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 };
}

/**
 * The event loop's delay while fresh indexes observe the host back to back (the tables, every
 * descriptor table, the owners): with the scan in slices of `sliceMs`, or in one piece (Infinity).
 */
async function firstObservationsDelay(runs: number, sliceMs: number): Promise<{ p99Ms: number; maxMs: number }> {
  const users = new UserDirectory('/');
  const turn = () => new Promise((resolve) => setTimeout(resolve, 2));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await turn();
  for (let i = 0; i < runs; i++) {
    await observeNetwork({ procfs: '/proc', index: new SocketOwnerIndex('/proc', { sliceMs }), users });
    await turn();
  }
  delay.disable();
  return { p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 };
}

/** Listing the processes and reading every descriptor table for the listeners, as a fresh index does: the part `ss -p` also does. */
async function lookupMs(): Promise<number> {
  const sockets = readNetTables('/proc', { tcpListenersOnly: true }).sockets;
  const listeners = sockets.filter((s) => s.state === 0x0a || s.protocol === 'udp').map((s) => s.inode);
  const start = performance.now();
  await new SocketOwnerIndex('/proc', { sliceMs: Number.POSITIVE_INFINITY }).lookup(listeners, [], new Set(sockets.map((s) => s.inode)));
  return performance.now() - start;
}

function loadAverage(): string {
  return loadavg()[0]!.toFixed(1);
}

/** CPU milliseconds (user + system) of this process per run of `fn`. */
async function cpuMsPerRun(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / runs;
}

/**
 * The network collector on a host with ~200 TCP listeners and ~1,000 more processes, side by side
 * in the same run with `ss -tulnp` (what an operator runs), `ss -tuln`, `netstat -tulnp` and
 * systeminformation's networkConnections(); and the hidden-port sweep beside unhide-tcp.
 */
export default async function network(): Promise<BenchResult> {
  const children: ChildProcess[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'hostguard-bench-'));
  try {
    // Listener owners are started among the sleepers, so they are spread over the pid space.
    for (let i = 0; i < sleepers; i++) {
      children.push(spawn('sleep', ['3600'], { stdio: 'ignore' }));
      if (i % (sleepers / listenerProcesses) === 0) children.push(await listenerProcess(listenersPerProcess));
    }
    await new Promise((r) => setTimeout(r, 500));
    const processes = spawnSync('sh', ['-c', 'ls -d /proc/[0-9]* | wc -l'], { encoding: 'utf8' }).stdout.trim();
    const tcpListeners = readNetTables('/proc').sockets.filter((s) => s.protocol === 'tcp' && s.state === 0x0a).length;

    // The listeners are accepted into a baseline, as on a steady host: no findings to render.
    const steady = exporter(stateDir);
    await steady.acceptCurrentState('operator');
    await collectorMs(steady);
    const cold: number[] = [];
    const warm: number[] = [];
    const ss: number[] = [];
    const tables: number[] = [];
    const lookups: number[] = [];
    const loadBefore = loadAverage();
    for (let r = 0; r < rounds; r++) {
      // Interleaved, so a burst of load on the shared machine hits every subject alike.
      ss.push(timeCommand('ss', ['-tulnp'], 1, 0).p50Ms);
      cold.push(await collectorMs(exporter(stateDir)));
      for (let i = 0; i < 5; i++) warm.push(await collectorMs(steady));
      const start = performance.now();
      readNetTables('/proc', { tcpListenersOnly: true });
      tables.push(performance.now() - start);
      lookups.push(await lookupMs());
    }
    const loadAfter = loadAverage();
    const coldDelay = await firstCollectionsDelay(stateDir, rounds);
    const slicedDelay = await firstObservationsDelay(rounds, 5);
    const wholeDelay = await firstObservationsDelay(rounds, Number.POSITIVE_INFINITY);
    const ssTiming = summarize(ss);
    const coldTiming = summarize(cold);
    const warmTiming = summarize(warm);
    const warmCpu = await cpuMsPerRun(() => steady.collectors[0]!.collect(steady.context()), 100);
    const ssNoOwners = timeCommand('ss', ['-tuln'], rounds);
    const netstat = spawnSync('sh', ['-c', 'command -v netstat']).status === 0 ? timeCommand('netstat', ['-tulnp'], rounds) : undefined;
    const siRuns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await si.networkConnections();
      siRuns.push(performance.now() - start);
    }
    const siTiming = summarize(siRuns);

    const sweepCpuBefore = process.cpuUsage();
    const sweep = await sweepHiddenPorts({
      protocols: ['tcp', 'udp'],
      ports: { from: 1, to: 65535 },
      confirmDelayMs: 0,
      probe: createBindProbe(),
      visiblePorts: (protocol) => new Set(readNetTables('/proc', { protocols: new Set([protocol]) }).sockets.map((s) => s.localPort)),
    });
    const sweepCpu = process.cpuUsage(sweepCpuBefore);
    const unhide = spawnSync('sh', ['-c', 'command -v unhide-tcp']).status === 0 ? timeCommand('unhide-tcp', [], 3, 1) : undefined;

    const workers = [await idleNodeMemory(), await idleNodeMemory(idleWorkers(1)), await idleNodeMemory(idleWorkers(2))];

    const row = (subject: string, t: Timing, command: string) => ({ subject, figure: `${ms(t.p50Ms)} / ${ms(t.p95Ms)}`, command });
    return {
      name: `Network: collector vs ss -tulnp (${tcpListeners} TCP listeners, ${processes} processes)`,
      rows: [
        row('network collector, steady state, p50 / p95', warmTiming, `${warm.length} collections, one long-lived collector`),
        {
          subject: 'network collector, steady state, CPU per collection',
          figure: ms(warmCpu),
          command: 'process.cpuUsage() over 100 collections',
        },
        row(
          'of which reading /proc/net/{tcp,tcp6,udp,udp6} (TCP up to the last listener)',
          summarize(tables),
          `readNetTables(), ${rounds} runs`,
        ),
        row('network collector, every mapping new, p50 / p95', coldTiming, `${rounds} first collections of fresh collectors`),
        {
          subject: 'event-loop delay during first collections, p99 / max',
          figure: `${ms(coldDelay.p99Ms)} / ${ms(coldDelay.maxMs)}`,
          command: `${rounds} more first collections back to back, monitorEventLoopDelay (1 ms resolution) around them alone`,
        },
        row(
          'of which listing processes and reading every descriptor table (what `ss -p` also does)',
          summarize(lookups),
          `SocketOwnerIndex.lookup() of the listeners on a fresh index, in one piece, ${rounds} runs`,
        ),
        {
          subject: 'event-loop delay during first observations, scan in 5 ms slices / in one piece: p99 (max)',
          figure: `${ms(slicedDelay.p99Ms)} (${ms(slicedDelay.maxMs)}) / ${ms(wholeDelay.p99Ms)} (${ms(wholeDelay.maxMs)})`,
          command: `${rounds} observeNetwork() of fresh indexes back to back, sliceMs 5 and Infinity, monitorEventLoopDelay (1 ms resolution)`,
        },
        row('ss -tulnp, p50 / p95', ssTiming, `ss -tulnp, ${rounds} runs interleaved with the collections`),
        row('ss -tuln (no process mapping), p50 / p95', ssNoOwners, 'ss -tuln'),
        ...(netstat ? [row('netstat -tulnp, p50 / p95', netstat, 'netstat -tulnp')] : []),
        row('systeminformation networkConnections(), p50 / p95', siTiming, 'await si.networkConnections(), 5 runs in-process'),
        {
          subject: 'hidden-port sweep, TCP and UDP, IPv4 and IPv6, ports 1-65535',
          figure: `${(sweep.durationSeconds * 1000).toFixed(0)} ms wall, ${((sweepCpu.user + sweepCpu.system) / 1000).toFixed(0)} ms CPU`,
          command: 'sweepHiddenPorts(), confirmation delay 0',
        },
        ...(unhide ? [row('unhide-tcp (TCP and UDP, IPv4), p50 / p95', unhide, 'unhide-tcp, 3 runs')] : []),
        // What reading descriptor tables on more threads would keep resident: each worker is a V8 isolate of its own.
        ...workers.map((m, n) => ({
          subject: `an idle node with ${n} idle worker thread${n === 1 ? '' : 's'}: total = private + file`,
          figure: memory(m),
          command: `node --max-semi-space-size=1 -e "…new Worker(…) ×${n}" (MALLOC_ARENA_MAX=2), after 1.5 s`,
        })),
      ],
      ratios: [
        `load average (1 min) ${loadBefore} before the timed rounds, ${loadAfter} after, on ${cpus().length} cores`,
        `steady state p50 / ss -tulnp p50 = ${(warmTiming.p50Ms / ssTiming.p50Ms).toFixed(2)} (target: ≤ 10 ms absolute)`,
        `every mapping new p50 / ss -tulnp p50 = ${(coldTiming.p50Ms / ssTiming.p50Ms).toFixed(2)} (target: ≤ 0.5)`,
        `listing and reading every descriptor table alone, p50 / ss -tulnp p50 = ${(summarize(lookups).p50Ms / ssTiming.p50Ms).toFixed(2)}`,
      ],
    };
  } finally {
    for (const child of children) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

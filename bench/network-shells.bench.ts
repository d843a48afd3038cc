import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { networkCollector } from '../src/collectors/network.js';
import { Exporter } from '../src/exporter.js';
import { silentLogger } from '../src/log/logger.js';
import { listPids } from '../src/procfs/pids.js';
import { readNetTables } from '../src/procfs/net.js';
import { readStdioSockets } from '../src/procfs/socket-owners.js';
import { ssFilter } from '../src/network/tcp-info.js';
import { waitForOutput } from '../test/helpers/wait-for-output.js';
import { ms, summarize, timeCommand } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const sleepers = 1000;
const serverProcesses = 10;
const clientProcesses = 20;
const connectionsPerClient = 10;
const rounds = 30;

/** A node process listening on one loopback port and accepting whatever connects. */
async function server(): Promise<{ child: ChildProcess; port: number }> {
  const script = `const s = require('node:net').createServer((c) => c.on('error', () => {})).listen(0, '127.0.0.1', () => console.log('PORT ' + s.address().port)); setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  return { child, port: Number((await waitForOutput(child, /PORT (\d+)/))[1]) };
}

/** A node process holding `count` connections to `port`: what a host's clients and servers keep open. */
async function client(port: number, count: number): Promise<ChildProcess> {
  const script = `const net = require('node:net'); let n = 0; for (let i = 0; i < ${count}; i++) net.connect(${port}, '127.0.0.1', () => { if (++n === ${count}) console.log('CONNECTED'); }); setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  await waitForOutput(child, /CONNECTED/);
  return child;
}

function exporter(stateDir: string, policy: string): Exporter {
  const policyFile = join(stateDir, `policy-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(policyFile, policy);
  return new Exporter({
    paths: { procfs: '/proc', rootfs: '/', stateDir },
    policyFile,
    collectors: [networkCollector],
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: 'bench', revision: 'bench' },
  });
}

async function collectorMs(e: Exporter): Promise<number> {
  const ctx = e.context();
  const start = performance.now();
  await e.collectors[0]!.collect(ctx);
  return performance.now() - start;
}

async function cpuMsPerRun(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / runs;
}

/** The judgments of listeners alone, as before shells on sockets and the default outbound judgment: the tables read up to the listeners. */
const listenersOnly =
  'outbound:\n  judge: unusual\n  flagged_processes: false\n  new_destinations: false\nshell_on_socket:\n  enabled: false\n';
/** The embedded default policy: shells on sockets and outgoing connections judged. */
const defaults = '';

/**
 * What shells on sockets, the default outbound judgment and the traffic of flagged connections add
 * to a collection: the same host (1,000 sleepers, 10 servers with 200 loopback connections from 20
 * clients) collected by the network collector with those judgments off and on, interleaved; what
 * the watch of starts adds per new process (three readlinks); and one `ss` run for a flagged
 * connection's byte counters.
 */
export default async function networkShells(): Promise<BenchResult> {
  const children: ChildProcess[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'hostguard-bench-'));
  try {
    for (let i = 0; i < sleepers; i++) children.push(spawn('sleep', ['3600'], { stdio: 'ignore' }));
    const servers = [];
    for (let i = 0; i < serverProcesses; i++) servers.push(await server());
    children.push(...servers.map((s) => s.child));
    for (let i = 0; i < clientProcesses; i++) children.push(await client(servers[i % serverProcesses]!.port, connectionsPerClient));
    const processes = listPids('/proc').length;
    const sockets = readNetTables('/proc').sockets;
    const established = sockets.filter((s) => s.protocol === 'tcp' && s.state === 0x01).length;

    const off = exporter(stateDir, listenersOnly);
    const on = exporter(stateDir, defaults);
    await off.acceptCurrentState('operator');
    await collectorMs(off);
    await collectorMs(on);
    const offRuns: number[] = [];
    const onRuns: number[] = [];
    const freshOff: number[] = [];
    const freshOn: number[] = [];
    const loadBefore = loadavg()[0]!.toFixed(1);
    for (let r = 0; r < rounds; r++) {
      // Interleaved, so a burst of load on the shared machine hits both alike.
      for (let i = 0; i < 5; i++) {
        offRuns.push(await collectorMs(off));
        onRuns.push(await collectorMs(on));
      }
      freshOff.push(await collectorMs(exporter(stateDir, listenersOnly)));
      freshOn.push(await collectorMs(exporter(stateDir, defaults)));
    }
    const loadAfter = loadavg()[0]!.toFixed(1);
    const cpuOff = await cpuMsPerRun(() => off.collectors[0]!.collect(off.context()), 100);
    const cpuOn = await cpuMsPerRun(() => on.collectors[0]!.collect(on.context()), 100);

    // The watch of starts reads the standard streams of each new process: here, of every process.
    const pids = listPids('/proc');
    const stdioRuns: number[] = [];
    for (let r = 0; r < 10; r++) {
      const start = performance.now();
      for (let i = 0; i < pids.length; i += 64) await Promise.all(pids.slice(i, i + 64).map((pid) => readStdioSockets('/proc', pid)));
      stdioRuns.push(performance.now() - start);
    }
    const stdio = summarize(stdioRuns);

    const one = sockets.find((s) => s.protocol === 'tcp' && s.state === 0x01)!;
    const ss = timeCommand('ss', ['-tinHeO', ssFilter([one])!], rounds);
    const ssAll = timeCommand('ss', ['-tinHeO'], rounds);

    const row = (subject: string, samples: number[], command: string) => {
      const t = summarize(samples);
      return { subject, figure: `${ms(t.p50Ms)} / ${ms(t.p95Ms)}`, command };
    };
    const p50 = (samples: number[]) => summarize(samples).p50Ms;
    return {
      name: `Network: shells on sockets and outbound by default (${processes} processes, ${established} established TCP sockets)`,
      rows: [
        row(
          'network collector, steady state, listeners only, p50 / p95',
          offRuns,
          `${offRuns.length} collections, policy: outbound judge unusual with both defaults off, shell_on_socket off`,
        ),
        row(
          'network collector, steady state, embedded default policy, p50 / p95',
          onRuns,
          `${onRuns.length} collections interleaved with the row above`,
        ),
        {
          subject: 'CPU per steady collection, listeners only / default policy',
          figure: `${ms(cpuOff)} / ${ms(cpuOn)}`,
          command: 'process.cpuUsage() over 100 collections each',
        },
        row('first collection, listeners only, p50 / p95', freshOff, `${rounds} first collections of fresh collectors`),
        row('first collection, default policy, p50 / p95', freshOn, `${rounds} first collections of fresh collectors, interleaved`),
        {
          subject: `standard streams of every process (what the watch of starts reads per new process, ${pids.length} processes)`,
          figure: `${ms(stdio.p50Ms)} / ${ms(stdio.p95Ms)} (${((stdio.p50Ms * 1000) / pids.length).toFixed(1)} µs per process)`,
          command: 'readStdioSockets() of every pid, 64 at a time, 10 runs',
        },
        {
          subject: 'ss for one flagged connection, p50 / p95',
          figure: `${ms(ss.p50Ms)} / ${ms(ss.p95Ms)}`,
          command: 'ss -tinHeO "( sport = :L and dport = :R )"',
        },
        {
          subject: 'ss for every TCP socket (past 64 flagged connections), p50 / p95',
          figure: `${ms(ssAll.p50Ms)} / ${ms(ssAll.p95Ms)}`,
          command: 'ss -tinHeO',
        },
      ],
      ratios: [
        `load average (1 min) ${loadBefore} before the timed rounds, ${loadAfter} after, on ${cpus().length} cores`,
        `steady state, default / listeners only, p50: ${(p50(onRuns) / p50(offRuns)).toFixed(2)} (+${ms(p50(onRuns) - p50(offRuns))})`,
        `first collection, default / listeners only, p50: ${(p50(freshOn) / p50(freshOff)).toFixed(2)} (+${ms(p50(freshOn) - p50(freshOff))})`,
      ],
    };
  } finally {
    for (const child of children) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

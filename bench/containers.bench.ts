import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/log/logger.js';
import { processesSectionSchema } from '../src/config/sections/processes.js';
import { ContainerObserver } from '../src/processes/container-observe.js';
import { networkCollector } from '../src/collectors/network.js';
import { processesCollector } from '../src/collectors/processes.js';
import { ContainerStdioWatch } from '../src/network/container-stdio.js';
import { Exporter } from '../src/exporter.js';
import { HostObserver } from '../src/processes/observe.js';
import { crioAnnotations, crioCgroup, debianImage, removeContainers, startContainer } from '../test/helpers/container-lab.js';
import { ms, summarize, timeAsync } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { baselineDist, baselineRows, collectorAgainstBaseline, collectorWork, startSleepers } from './processes.bench.js';

const total = 1000;
const containers = 20;
const perContainer = 25;
const runs = 100;

/**
 * The processes collector at 1,000 processes of which 500 run in 20 containers (runc on overlayfs
 * roots, a shell and 24 sleeps each, annotated as CRI-O annotates a pod's container), beside the
 * same collector at 1,000 host processes (the processes benchmark's setup), in the same run.
 */
export default async function containersBench(): Promise<BenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'hostguard-bench-containers-'));
  const sleepers: ChildProcess[] = [];
  try {
    sleepers.push(...(await startSleepers(total)));
    await settle();
    const hostOnly = await collectorWork(stateDir(work, 'state-host'));
    const hostAgainst =
      baselineDist === undefined ? undefined : await collectorAgainstBaseline(stateDir(work, 'state-host-ab'), baselineDist);

    // Half of them move into containers: 500 host sleepers, 20 containers of 25 processes.
    for (const child of sleepers.splice(0, containers * perContainer)) child.kill('SIGKILL');
    const image = debianImage(work);
    const started = performance.now();
    for (let i = 0; i < containers; i++) {
      const pod = { uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, namespace: 'bench', name: `app-${i}` };
      startContainer(image, work, {
        args: ['/bin/sh', '-c', `for i in $(seq ${perContainer - 1}); do sleep 100000 & done; wait`],
        cgroup: crioCgroup(pod.uid),
        annotations: crioAnnotations(pod, 'app', 'registry.example.com/bench/app:1'),
      });
    }
    const startMs = performance.now() - started;
    await settle();
    const withContainers = await collectorWork(stateDir(work, 'state-containers'));
    const containersAgainst =
      baselineDist === undefined ? undefined : await collectorAgainstBaseline(stateDir(work, 'state-containers-ab'), baselineDist);
    const cold = await coldObservation(join(work, 'state-cold'));
    const network = await networkBesideContainers(work);
    const processCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    return {
      name: `Processes collector with containers: ${processCount} processes, ${containers * perContainer} of them in ${containers} containers on overlayfs`,
      rows: [
        {
          subject: `collector work per scrape at ${total} host processes (today's setup), wall p50 / p95`,
          figure: `${ms(hostOnly.wall.p50Ms)} / ${ms(hostOnly.wall.p95Ms)}`,
          command: `collect() in process, ${runs} runs`,
        },
        {
          subject: `collector work per scrape, ${total - containers * perContainer} host + ${containers * perContainer} in ${containers} containers, wall p50 / p95`,
          figure: `${ms(withContainers.wall.p50Ms)} / ${ms(withContainers.wall.p95Ms)}`,
          command: `collect() in process, ${runs} runs`,
        },
        {
          subject: 'the same, CPU mean (host only / with containers)',
          figure: `${ms(hostOnly.cpuMs)} / ${ms(withContainers.cpuMs)}`,
          command: 'process.cpuUsage() over the runs',
        },
        ...(hostAgainst ? baselineRows(hostAgainst, baselineDist!, `collector work per scrape at ${total} host processes`) : []),
        ...(containersAgainst ? baselineRows(containersAgainst, baselineDist!, 'collector work per scrape with containers') : []),
        {
          subject: 'event-loop delay during the runs with containers, p99 / max',
          figure: `${ms(withContainers.p99BlockMs)} / ${ms(withContainers.maxBlockMs)}`,
          command: 'monitorEventLoopDelay (1 ms resolution)',
        },
        {
          subject:
            "container observation on first sight (every namespace's mountinfo, cgroup and runc state, every process's executable, upper-layer file and standard input), p50 / max",
          figure: `${ms(cold.p50Ms)} / ${ms(cold.maxMs)}`,
          command: `ContainerObserver.observe() of a fresh observer, ${cold.runs} runs`,
        },
        {
          subject: `container observation once every process was seen (the steady state), p50 / p95`,
          figure: `${ms(cold.warm.p50Ms)} / ${ms(cold.warm.p95Ms)}`,
          command: `ContainerObserver.observe() of the same observer, ${cold.warm.runs} runs`,
        },
        {
          subject: `network collector, steady state, alone / beside the processes collector (its ${containers * perContainer} container processes watched for sockets on standard streams), p50 / p95`,
          figure: `${ms(network.alone.p50Ms)} / ${ms(network.alone.p95Ms)}; ${ms(network.beside.p50Ms)} / ${ms(network.beside.p95Ms)}`,
          command: `network collect() in process, ${runs} runs each, interleaved in blocks of 10`,
        },
        {
          subject: `standard streams and network namespace of every container process, on first sight / steady, p50`,
          figure: `${ms(network.firstSight.p50Ms)} / ${ms(network.steady.p50Ms)}`,
          command: `ContainerStdioWatch.observe() of ${network.watched} processes: a fresh watch (10 runs) / the same one (200 runs)`,
        },
        {
          subject: `starting the ${containers} containers (runc run on a fresh overlay each)`,
          figure: ms(startMs),
          command: 'mount -t overlay, runc run --detach',
        },
      ],
      ratios: [
        `with containers / host only, wall p50 = ${(withContainers.wall.p50Ms / hostOnly.wall.p50Ms).toFixed(2)}`,
        `load average (1, 5, 15 min) at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(', ')}`,
      ],
    };
  } finally {
    for (const child of sleepers) child.kill('SIGKILL');
    removeContainers();
    rmSync(work, { recursive: true, force: true });
  }
}

/** What a collection pays when every container process is new to it: a fresh ContainerObserver per run. */
async function coldObservation(dir: string) {
  const paths = { procfs: '/proc', rootfs: '/', stateDir: dir };
  const host = new HostObserver(paths, silentLogger);
  const { snapshot, view } = await host.observe(processesSectionSchema.parse({}));
  const samples: number[] = [];
  let observer = new ContainerObserver(paths, silentLogger);
  for (let i = 0; i < 10; i++) {
    observer = new ContainerObserver(paths, silentLogger);
    const started = performance.now();
    await observer.observe(snapshot.processes, view.processes, true);
    samples.push(performance.now() - started);
  }
  // The same observer again: what every later scrape pays for the containers (nothing is read).
  const warm = await timeAsync(() => observer.observe(snapshot.processes, view.processes, true), 200, 5);
  host.close();
  samples.sort((a, b) => a - b);
  return { runs: samples.length, p50Ms: samples[Math.floor(samples.length / 2)]!, maxMs: samples.at(-1)!, warm };
}

/**
 * The network collector's steady collection with no containers shared (today's host path alone)
 * and beside the processes collector, whose container processes it then watches; and the watch
 * itself, on first sight of every container process and once they were all seen.
 */
async function networkBesideContainers(parent: string) {
  const exporterOf = (name: string, collectors: (typeof networkCollector)[]) =>
    new Exporter({
      paths: { procfs: '/proc', rootfs: '/', stateDir: stateDir(parent, name) },
      policyFile: undefined,
      collectors,
      maxFindingSeries: 100,
      log: silentLogger,
      build: { version: 'bench', revision: 'bench' },
    });
  const alone = exporterOf('state-network-alone', [networkCollector]);
  const beside = exporterOf('state-network-beside', [processesCollector, networkCollector]);
  for (const e of [alone, beside]) {
    await e.acceptCurrentState('operator');
    for (let i = 0; i < 3; i++) for (const c of e.collectors) await c.collect(e.context());
  }
  const collectNetwork = (e: Exporter) => e.collectors.find((c) => c.name === 'network')!.collect(e.context());
  const aloneSamples: number[] = [];
  const besideSamples: number[] = [];
  for (let block = 0; block < runs / 10; block++) {
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      await collectNetwork(alone);
      aloneSamples.push(performance.now() - start);
    }
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      await collectNetwork(beside);
      besideSamples.push(performance.now() - start);
    }
  }
  await alone.stop();
  await beside.stop();

  const paths = { procfs: '/proc', rootfs: '/', stateDir: stateDir(parent, 'state-watch') };
  const host = new HostObserver(paths, silentLogger);
  const { snapshot, view } = await host.observe(processesSectionSchema.parse({}));
  const facts = await new ContainerObserver(paths, silentLogger).observe(snapshot.processes, view.processes, true);
  host.close();
  const watched = [...facts].map(([pid, f]) => ({ pid, key: f }));
  const hostNetns = readlinkSync('/proc/self/ns/net');
  const firstSight: number[] = [];
  let watch = new ContainerStdioWatch('/proc');
  for (let i = 0; i < 10; i++) {
    watch = new ContainerStdioWatch('/proc');
    const start = performance.now();
    await watch.observe(watched, hostNetns);
    firstSight.push(performance.now() - start);
  }
  const steady = await timeAsync(() => watch.observe(watched, hostNetns), 200, 5);
  return {
    alone: summarize(aloneSamples),
    beside: summarize(besideSamples),
    firstSight: summarize(firstSight),
    steady,
    watched: watched.length,
  };
}

function stateDir(parent: string, name: string): string {
  mkdirSync(join(parent, name));
  return join(parent, name);
}

/** Past the reader's young-process window (5 s), as processes on a host mostly are. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 6000));
}

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/log/logger.js';
import { processesSectionSchema } from '../src/config/sections/processes.js';
import { ContainerObserver } from '../src/processes/container-observe.js';
import { HostObserver } from '../src/processes/observe.js';
import { crioAnnotations, crioCgroup, debianImage, removeContainers, startContainer } from '../test/helpers/container-lab.js';
import { ms, timeAsync } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { collectorWork, startSleepers } from './processes.bench.js';

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
    const cold = await coldObservation(join(work, 'state-cold'));
    const processCount = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    return {
      name: `Processes collector with containers: ${processCount} processes, ${containers * perContainer} of them in ${containers} containers on overlayfs`,
      rows: [
        { subject: `collector work per scrape at ${total} host processes (today's setup), wall p50 / p95`, figure: `${ms(hostOnly.wall.p50Ms)} / ${ms(hostOnly.wall.p95Ms)}`, command: `collect() in process, ${runs} runs` },
        { subject: `collector work per scrape, ${total - containers * perContainer} host + ${containers * perContainer} in ${containers} containers, wall p50 / p95`, figure: `${ms(withContainers.wall.p50Ms)} / ${ms(withContainers.wall.p95Ms)}`, command: `collect() in process, ${runs} runs` },
        { subject: 'the same, CPU mean (host only / with containers)', figure: `${ms(hostOnly.cpuMs)} / ${ms(withContainers.cpuMs)}`, command: 'process.cpuUsage() over the runs' },
        { subject: 'event-loop delay during the runs with containers, p99 / max', figure: `${ms(withContainers.p99BlockMs)} / ${ms(withContainers.maxBlockMs)}`, command: 'monitorEventLoopDelay (1 ms resolution)' },
        {
          subject: 'container observation on first sight (every namespace\'s mountinfo, cgroup and runc state, every process\'s executable, upper-layer file and standard input), p50 / max',
          figure: `${ms(cold.p50Ms)} / ${ms(cold.maxMs)}`,
          command: `ContainerObserver.observe() of a fresh observer, ${cold.runs} runs`,
        },
        {
          subject: `container observation once every process was seen (the steady state), p50 / p95`,
          figure: `${ms(cold.warm.p50Ms)} / ${ms(cold.warm.p95Ms)}`,
          command: `ContainerObserver.observe() of the same observer, ${cold.warm.runs} runs`,
        },
        { subject: `starting the ${containers} containers (runc run on a fresh overlay each)`, figure: ms(startMs), command: 'mount -t overlay, runc run --detach' },
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

function stateDir(parent: string, name: string): string {
  mkdirSync(join(parent, name));
  return join(parent, name);
}

/** Past the reader's young-process window (5 s), as processes on a host mostly are. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 6000));
}

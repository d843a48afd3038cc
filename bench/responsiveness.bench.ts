import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JournaldFollower } from '../src/auth/journald-follower.js';
import type { CollectorDefinition } from '../src/collectors/collector.js';
import { Exporter } from '../src/exporter.js';
import { silentLogger } from '../src/log/logger.js';
import { createApp } from '../src/server/app.js';
import { WebConfigStore } from '../src/server/web-config-store.js';
import { FileFollower } from '../src/tail/file-follower.js';
import { appendToJournal, exportEntries, journalDirIn } from '../test/helpers/journal.js';
import { summarize } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { repoRoot } from './lib/servers.js';

const runs = 5;
const ms = (values: readonly number[]) => {
  const t = summarize(values);
  return `p50 ${t.p50Ms.toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms (${t.runs} runs)`;
};

/**
 * How soon the exporter answers, stops or gives up: the figures the tests used to bound with wall
 * clocks. The tests prove the behaviour (a stop within a slice, a 503 while a collection is held,
 * SIGKILL at the grace, a cut line); these rows say how fast it is on this machine.
 */
export default async function responsiveness(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hostguard-bench-responsiveness-'));
  try {
    return {
      name: 'Responsiveness: stops, refusals and deadlines',
      rows: [
        {
          subject: 'FileFollower.stop() with a 208 MiB backlog being read',
          figure: ms(await followerStops(dir)),
          command: 'test/integration/file-follower.test.ts "stops within a slice", stop() timed',
        },
        {
          subject: 'heap grown by reading a 10 MB line (cut to 16 KiB), no GC in between',
          figure: heapForLongLine(dir),
          command: 'test/integration/file-follower.test.ts "10 MB line", process.memoryUsage().heapUsed around poll()',
        },
        {
          subject: '503 beyond --web.max-requests=1 while a collection is held',
          figure: ms(await refusals()),
          command: 'fetch /metrics while another scrape collects',
        },
        {
          subject: 'JournaldFollower.stop(), journalctl ending on SIGTERM',
          figure: ms(await journaldStops(dir, false)),
          command: 'test/integration/journald-follower.test.ts, stop() timed',
        },
        {
          subject: 'JournaldFollower.stop(), journalctl ignoring SIGTERM (grace 500 ms, then SIGKILL)',
          figure: ms(await journaldStops(dir, true)),
          command: 'test/integration/journald-follower.test.ts, stop() timed',
        },
        {
          subject: '`baseline init` with --baseline.timeout 1s on a tree holding a 1 TiB sparse file: exit',
          figure: ms(baselineDeadline(dir)),
          command: 'hostguard-exporter --collector.disable-defaults --collector.integrity --baseline.timeout 1s baseline init',
        },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function followerStops(dir: string): Promise<number[]> {
  const path = join(dir, 'backlog.log');
  const perChunk = 1 << 20;
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(perChunk * 16);
  for (let c = 0; c < 13; c++) {
    for (let i = 0; i < perChunk; i++) chunk.write(String(c * perChunk + i).padStart(15, '0') + '\n', i * 16, 'latin1');
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const follower = new FileFollower({ path, startAt: 'beginning', log: silentLogger, onLines: () => {} });
    follower.start();
    while (follower.stats.linesRead === 0) await new Promise((r) => setTimeout(r, 5));
    const began = performance.now();
    await follower.stop();
    samples.push(performance.now() - began);
  }
  rmSync(path);
  return samples;
}

function heapForLongLine(dir: string): string {
  const grown: number[] = [];
  for (let run = 0; run < runs; run++) {
    const path = join(dir, `long-${run}.log`);
    writeFileSync(path, Buffer.concat([Buffer.from('before\n'), Buffer.alloc(10 * 1024 * 1024, 0x78), Buffer.from('\nafter\n')]));
    const follower = new FileFollower({ path, startAt: 'beginning', log: silentLogger, onLines: () => {} });
    const before = process.memoryUsage().heapUsed;
    follower.poll();
    grown.push(process.memoryUsage().heapUsed - before);
    void follower.stop();
    rmSync(path);
  }
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `median ${mib([...grown].sort((a, b) => a - b)[Math.floor(runs / 2)]!)}, max ${mib(Math.max(...grown))} (${runs} runs)`;
}

async function refusals(): Promise<number[]> {
  let release = (): void => undefined;
  const held: CollectorDefinition = {
    name: 'held',
    description: 'held',
    defaultEnabled: true,
    create: () => ({
      name: 'held',
      findingKinds: [],
      collect: () => new Promise((resolve) => (release = () => resolve({ findings: [] }))),
    }),
  };
  const stateDir = mkdtempSync(join(tmpdir(), 'hostguard-bench-refusals-'));
  const exporter = new Exporter({
    paths: { procfs: '/proc', rootfs: '/', stateDir },
    policyFile: undefined,
    collectors: [held],
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: '0', revision: 'bench' },
  });
  const app = createApp({
    exporter,
    telemetryPath: '/metrics',
    maxRequests: 1,
    version: '0',
    log: silentLogger,
    webConfig: new WebConfigStore(undefined, silentLogger),
    showFindingDetails: false,
    reload: () => ({ ok: true, message: '' }),
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
  const samples: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const admitted = fetch(url).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 100)); // the first is collecting
      const began = performance.now();
      const refused = await fetch(url);
      await refused.text();
      samples.push(performance.now() - began);
      if (refused.status !== 503) throw new Error(`expected 503, got ${refused.status}`);
      release();
      await admitted;
    }
  } finally {
    server.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return samples;
}

async function journaldStops(dir: string, stubborn: boolean): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const base = join(dir, `journal-${stubborn}-${run}`);
    mkdirSync(base);
    const { journalDir, journal } = journalDirIn(base);
    appendToJournal(
      journal,
      exportEntries(
        base,
        'entries.export',
        Array.from({ length: 20 }, (_, i) => `Failed password for root from 192.0.2.1 port ${i} ssh2`),
      ),
    );
    const wrapper = join(base, 'journalctl');
    writeFileSync(wrapper, `#!/bin/sh\n${stubborn ? "trap '' TERM\n" : ''}exec journalctl "$@"\n`, { mode: 0o755 });
    let read = 0;
    const follower = new JournaldFollower({
      path: journalDir,
      rootfs: '/',
      identifiers: ['sshd'],
      cursorFile: join(base, 'cursor'),
      startAt: 'beginning',
      persistMode: 'checkpoint',
      log: silentLogger,
      onEntry: () => read++,
      onNotJson: () => {},
      journalctl: wrapper,
    });
    follower.start();
    while (read < 20) await new Promise((r) => setTimeout(r, 10));
    const began = performance.now();
    await follower.stop();
    samples.push(performance.now() - began);
  }
  return samples;
}

function baselineDeadline(dir: string): number[] {
  const tree = join(dir, 'huge-tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'image.img'), '');
  truncateSync(join(tree, 'image.img'), 2 ** 40);
  const policy = join(dir, 'huge-policy.yml');
  writeFileSync(policy, `integrity:\n  paths: [${tree}]\n  running_executables: false\n  package_database: false\n`);
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const state = join(dir, `huge-state-${run}`);
    const began = performance.now();
    const result = spawnSync(
      join(repoRoot, 'dist', 'cli', 'main.js'),
      [
        '--state.dir',
        state,
        '--config.file',
        policy,
        '--collector.disable-defaults',
        '--collector.integrity',
        '--baseline.timeout',
        '1s',
        'baseline',
        'init',
      ],
      { encoding: 'utf8' },
    );
    samples.push(performance.now() - began);
    if (result.status !== 2) throw new Error(`expected exit 2 at the deadline, got ${result.status}: ${result.stderr}`);
  }
  return samples;
}

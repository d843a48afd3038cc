import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseExposition, sampleValue } from '../test/helpers/exposition.js';
import type { BenchResult, BenchRow } from './lib/report.js';
import { repoRoot, startHostguard, type Server } from './lib/servers.js';

/**
 * The persistence coverage: how soon the real-time watch turns a write into a finding (p50/p99
 * over many single writes), what a 2,000-file burst costs, the privileged-file search of this
 * machine's whole tree, and `baseline init` / `check` with the default policy before this change
 * (the build named by BENCH_BEFORE_CLI, for example another checkout's dist/cli/main.js) and after,
 * in the same run.
 */
const cli = join(repoRoot, 'dist/cli/main.js');
const before = process.env['BENCH_BEFORE_CLI'] ?? '';
const seconds = (s: number) => `${s.toFixed(2)} s`;
const ms = (v: number) => `${v.toFixed(0)} ms`;

interface Timed {
  readonly seconds: number;
  readonly maxRssKiB: number;
  readonly cpuSeconds: number;
  readonly inputBlocks: number;
}

/** Wall time, peak RSS, CPU (user + system) and file-system input blocks of a command, from GNU time. */
function timed(command: string, args: readonly string[]): Timed {
  const out = join(tmpdir(), `hostguard-bench-time-${process.pid}`);
  spawnSync('/usr/bin/time', ['-f', '%e %M %U %S %I', '-o', out, command, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
  const [wall, kib, user, system, inputs] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  rmSync(out, { force: true });
  return { seconds: wall!, maxRssKiB: kib!, cpuSeconds: user! + system!, inputBlocks: inputs! };
}

function best(runs: number, fn: () => Timed): Timed {
  return Array.from({ length: runs }, fn).reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** One retry: on the busy machine a kept-alive connection the server closed can be reset under the next request. */
async function scrape(server: Server) {
  const get = async () => parseExposition(await (await fetch(`${server.url}/metrics`)).text());
  try {
    return await get();
  } catch {
    return get();
  }
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('benchmark condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

/** Single writes, one at a time: the time from the write to the finding in /metrics, polled every 5 ms. */
async function latency(server: Server, tree: string, writes: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < writes; i++) {
    const path = join(tree, 'etc/cron.d', `job${i}`);
    const kind = i % 3;
    const started = performance.now();
    if (kind === 0) writeFileSync(path, '* * * * * root /tmp/.x\n');
    else if (kind === 1) appendFileSync(join(tree, 'etc/passwd'), `u${i}:x:0:0::/root:/bin/sh\n`);
    else chmodSync(join(tree, 'usr/bin/tool'), i % 2 === 0 ? 0o4755 : 0o755);
    const watched = kind === 0 ? path : kind === 1 ? join(tree, 'etc/passwd') : join(tree, 'usr/bin/tool');
    const wantKind = kind === 0 ? 'added' : kind === 1 ? 'content_changed' : 'metadata_changed';
    // For the chmod, wait for the series to flip with the bit: present when set, absent when cleared.
    const wantPresent = kind !== 2 || i % 2 === 0;
    await until(async () => {
      const s = await scrape(server);
      const present = s.some(
        (x) => x.name === 'hostguard_integrity_mismatch' && x.labels['path'] === watched && x.labels['kind'] === wantKind,
      );
      return present === wantPresent ? true : undefined;
    });
    samples.push(performance.now() - started);
    if (kind === 1) writeFileSync(join(tree, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    if (kind === 1) {
      await until(async () =>
        (await scrape(server)).some((x) => x.name === 'hostguard_integrity_mismatch' && x.labels['path'] === watched) ? undefined : true,
      );
    }
  }
  return samples.sort((a, b) => a - b);
}

export default async function persistence(): Promise<BenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'hostguard-bench-persistence-'));
  const rows: BenchRow[] = [];
  const ratios: string[] = [];
  try {
    // A watched tree the size of this host's default watched set: copies of /usr/bin, /usr/sbin and /etc.
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'usr'), { recursive: true });
    execFileSync('cp', ['-a', '/usr/bin', '/usr/sbin', join(tree, 'usr')]);
    execFileSync('cp', ['-a', '/etc', tree]);
    mkdirSync(join(tree, 'etc/cron.d'), { recursive: true });
    writeFileSync(join(tree, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    execFileSync('cp', ['/usr/bin/true', join(tree, 'usr/bin/tool')]);
    const paths = Number(execFileSync('sh', ['-c', `find ${tree} | wc -l`]).toString());
    const policy = join(work, 'policy.yml');
    writeFileSync(
      policy,
      `integrity:\n  paths: [${JSON.stringify(tree)}]\n  schedule: "0 0 1 1 *"\n  ssh_authorized_keys: false\n  privileged_files: { enabled: false }\n`,
    );
    // serve logs at info: the benchmark waits for its "listening" line.
    const args = ['--collector.disable-defaults', '--collector.integrity', '--config.file', policy, '--state.dir', join(work, 'state')];
    execFileSync(cli, [...args, 'baseline', 'init'], { stdio: 'ignore' });
    const server = await startHostguard(args);
    try {
      await until(async () =>
        (sampleValue(await scrape(server), 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0 ? true : undefined,
      );
      const writes = Number(process.env['BENCH_PERSISTENCE_WRITES'] ?? 300);
      const sorted = await latency(server, tree, writes);
      rows.push({
        subject: 'watched tree',
        figure: `${paths} paths (copies of /usr/bin, /usr/sbin, /etc)`,
        command: 'cp -a /usr/bin /usr/sbin /etc TREE',
      });
      rows.push({
        subject: `write → finding in /metrics, ${writes} single writes (new file, append to passwd, chmod u±s) p50 / p99 / max`,
        figure: `${ms(percentile(sorted, 0.5))} / ${ms(percentile(sorted, 0.99))} / ${ms(sorted.at(-1)!)}`,
        command: 'serve, integrity.realtime, schedule once a year; GET /metrics every 5 ms until the series is there',
      });
      ratios.push(`write → finding p99 / 2 s budget = ${(percentile(sorted, 0.99) / 2000).toFixed(2)}`);

      // The burst: 2,000 new files written into one watched directory as fast as Node writes them.
      const beforeBurst = await scrape(server);
      const started = performance.now();
      const content = 'x'.repeat(4096);
      for (let i = 0; i < 2000; i++) writeFileSync(join(tree, 'usr/bin', `burst${i}`), content);
      const wroteMs = performance.now() - started;
      const after = await until(async () => {
        const s = await scrape(server);
        const added = (x: typeof s) => sampleValue(x, 'hostguard_findings', { collector: 'integrity', kind: 'added' }) ?? 0;
        return added(s) >= added(beforeBurst) + 2000 ? s : undefined;
      });
      const allMs = performance.now() - started;
      const delta = (name: string, labels: Record<string, string> = {}) =>
        (sampleValue(after, name, labels) ?? 0) - (sampleValue(beforeBurst, name, labels) ?? 0);
      rows.push({
        subject: '2,000-file burst: written / all 2,000 findings in /metrics',
        figure: `${ms(wroteMs)} / ${ms(allMs)} after the first write`,
        command: 'writeFileSync of 2,000 files of 4 KiB into a watched directory',
      });
      rows.push({
        subject: '2,000-file burst: inotify events / rescans / paths re-read / bytes hashed',
        figure: `${delta('hostguard_integrity_watch_events_total')} / ${delta('hostguard_integrity_watch_rescans_total', { reason: 'changes' }) + delta('hostguard_integrity_watch_rescans_total', { reason: 'burst' })} / ${delta('hostguard_integrity_watch_changed_paths_total')} / ${(delta('hostguard_integrity_hashed_bytes_total') / 2 ** 20).toFixed(1)} MiB (written: ${((2000 * 4096) / 2 ** 20).toFixed(1)} MiB)`,
        command: 'hostguard_integrity_watch_{events,rescans,changed_paths}_total, hostguard_integrity_hashed_bytes_total',
      });
    } finally {
      await server.stop();
    }

    // The privileged-file search of this machine's whole tree: unbounded (as `baseline init` runs
    // it), then at the default rate of serve.
    const searchPolicy = join(work, 'search.yml');
    writeFileSync(
      searchPolicy,
      'integrity:\n  paths: []\n  running_executables: false\n  package_database: false\n  realtime: false\n  privileged_files: { max_entries_per_second: 0 }\n',
    );
    const searchState = join(work, 'search-state');
    const search = timed(cli, [
      '--collector.disable-defaults',
      '--collector.integrity',
      '--config.file',
      searchPolicy,
      '--state.dir',
      searchState,
      '--log.level',
      'error',
      'check',
    ]);
    const record = JSON.parse(readFileSync(join(searchState, 'integrity-privileged-search.json'), 'utf8')) as {
      entries: number;
      files: unknown[];
      mountPoints: string[];
      startedAt: number;
      finishedAt: number;
    };
    rows.push({
      subject: "privileged-file search, this machine's whole tree, no rate limit (as `baseline init`)",
      figure: `${seconds((record.finishedAt - record.startedAt) / 1000)} search (${seconds(search.seconds)} whole process, ${search.cpuSeconds.toFixed(1)} s CPU, ${search.inputBlocks} blocks read, peak RSS ${(search.maxRssKiB / 1024).toFixed(0)} MiB): ${record.entries} entries on ${record.mountPoints.join(', ')}, ${record.files.length} privileged files`,
      command: 'hostguard-exporter check, integrity.paths [], no search on record (GNU time)',
    });
    const findRun = timed('sh', ['-c', 'find / -xdev -type f -perm /6000 > /dev/null 2>&1']);
    rows.push({
      subject: '`find / -xdev -type f -perm /6000` (setuid/setgid only)',
      figure: `${seconds(findRun.seconds)}, ${findRun.cpuSeconds.toFixed(1)} s CPU`,
      command: 'find / -xdev -type f -perm /6000',
    });
    ratios.push(
      `privileged-file search (with capabilities) / find -perm /6000 = ${((record.finishedAt - record.startedAt) / 1000 / findRun.seconds).toFixed(2)}`,
    );
    writeFileSync(searchPolicy, 'integrity:\n  paths: []\n  running_executables: false\n  package_database: false\n  realtime: false\n');
    // A baseline (so serve does not learn before listening), and no search on record: serve searches at start.
    execFileSync(
      cli,
      [
        '--collector.disable-defaults',
        '--collector.integrity',
        '--config.file',
        searchPolicy,
        '--state.dir',
        searchState,
        'baseline',
        'init',
      ],
      { stdio: 'ignore' },
    );
    rmSync(join(searchState, 'integrity-privileged-search.json'));
    const limited = await startHostguard([
      '--collector.disable-defaults',
      '--collector.integrity',
      '--config.file',
      searchPolicy,
      '--state.dir',
      searchState,
    ]);
    try {
      const scrapes: number[] = [];
      const s = await until(async () => {
        const t = performance.now();
        const samples = await scrape(limited);
        scrapes.push(performance.now() - t);
        return (sampleValue(samples, 'hostguard_integrity_privileged_search_last_end_timestamp_seconds') ?? 0) > 0 ? samples : undefined;
      }, 600_000);
      scrapes.sort((a, b) => a - b);
      rows.push({
        subject: 'privileged-file search in serve at the default 50,000 entries/s',
        figure: `${seconds(sampleValue(s, 'hostguard_integrity_privileged_search_duration_seconds')!)}; scrapes meanwhile p50 / p99 ${percentile(scrapes, 0.5).toFixed(1)} / ${percentile(scrapes, 0.99).toFixed(1)} ms (${scrapes.length} scrapes)`,
        command: 'hostguard_integrity_privileged_search_duration_seconds; GET /metrics every 5 ms during the search',
      });
    } finally {
      await limited.stop();
    }

    // `baseline init` and `check` on this host with the embedded default policy, before and after.
    const hostArgs = (state: string) => [
      '--collector.disable-defaults',
      '--collector.integrity',
      '--state.dir',
      state,
      '--log.level',
      'error',
    ];
    for (const [label, program] of [
      ['before', before],
      ['after', cli],
    ] as const) {
      try {
        readFileSync(program);
      } catch {
        rows.push({
          subject: `default policy on this host, ${label}`,
          figure: 'not measured: no build at that path (BENCH_BEFORE_CLI)',
          command: program || 'BENCH_BEFORE_CLI unset',
        });
        continue;
      }
      const state = join(work, `host-${label.split(' ')[0]}`);
      const init = timed(program, [...hostArgs(state), 'baseline', 'init']);
      const entries = Object.keys(
        (JSON.parse(readFileSync(join(state, 'baseline.json'), 'utf8')) as { sections: { integrity: object } }).sections.integrity,
      ).length;
      timed(program, [...hostArgs(state), 'check']); // the first check reads the MD5s of dpkg's files
      const check = best(3, () => timed(program, [...hostArgs(state), 'check']));
      rows.push({
        subject: `default policy on this host, ${label}: \`baseline init\` / \`check\` (unchanged host)`,
        figure: `${seconds(init.seconds)} (${entries} entries, peak RSS ${(init.maxRssKiB / 1024).toFixed(0)} MiB) / ${seconds(check.seconds)}`,
        command: `${label === 'after' ? 'dist/cli/main.js' : 'BENCH_BEFORE_CLI=…/dist/cli/main.js'} --collector.disable-defaults --collector.integrity baseline init; check (best of 3, after one)`,
      });
    }
    return { name: 'Persistence: real-time watch, bursts, privileged-file search, default policy before and after', rows, ratios };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseExposition, sampleValue } from '../test/helpers/exposition.js';
import { writeAideConfig } from '../test/integration/integrity/aide.js';
import { rssBytes, summarize } from './lib/measure.js';
import type { BenchResult, BenchRow } from './lib/report.js';
import { repoRoot, startHostguard } from './lib/servers.js';

/**
 * The reference tree: /usr/bin, /usr/sbin and large /usr/lib directories copied into a
 * temporary directory (~2 GB, ~11,500 paths), hashed by hostguard-exporter, AIDE and
 * `xargs -P2 sha256sum` in the same run, on a warm page cache. The tree is deleted afterwards.
 */
const sources = [
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/jvm',
  '/usr/lib/llvm-14',
  '/usr/lib/python3',
  '/usr/lib/postgresql',
];
const cli = join(repoRoot, 'dist/cli/main.js');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const seconds = (s: number) => `${s.toFixed(2)} s`;

interface Timed {
  readonly seconds: number;
  readonly maxRssBytes: number;
  readonly status: number | null;
}

/** Wall time and peak RSS of a command, from GNU time. */
function timed(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Timed {
  const out = join(tmpdir(), `hostguard-bench-time-${process.pid}`);
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, command, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  const [wall, kib] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ');
  rmSync(out, { force: true });
  return { seconds: Number(wall), maxRssBytes: Number(kib) * 1024, status: result.status };
}

function best(runs: number, fn: () => Timed): Timed {
  const all = Array.from({ length: runs }, fn);
  return all.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function policyFile(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function scrapeUntil(url: string, ready: (text: string) => boolean): Promise<string> {
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (ready(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Durations of `count` scheduled scans in serve (every 5 s), with scrape latencies taken meanwhile,
 * one scrape every `pollMs` (a scrape shares the event loop with the scan's listing).
 */
async function serveScans(policy: string, stateDir: string, count: number, mode: 'fast' | 'full', pollMs: number) {
  const server = await startHostguard([
    '--collector.disable-defaults',
    '--collector.integrity',
    '--config.file',
    policy,
    '--state.dir',
    stateDir,
  ]);
  try {
    const durations: number[] = [];
    const scrapesMs: number[] = [];
    let seen = 0;
    while (durations.length < count) {
      const started = performance.now();
      const text = await (await fetch(`${server.url}/metrics`)).text();
      scrapesMs.push(performance.now() - started);
      const samples = parseExposition(text);
      const scans = sampleValue(samples, 'hostguard_integrity_scans_total', { mode }) ?? 0;
      if (scans > seen) {
        durations.push(sampleValue(samples, 'hostguard_integrity_last_scan_duration_seconds') ?? NaN);
        seen = scans;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return { durations: summarize(durations.map((s) => s * 1000)), scrapes: summarize(scrapesMs), rss: rssBytes(server.child.pid!) };
  } finally {
    await server.stop();
  }
}

/** The floor: two worker threads hashing the listed files with synchronous 1 MiB reads, nothing else. */
const bareHasher = `
const { Worker } = require('node:worker_threads');
const fs = require('node:fs');
const files = fs.readFileSync(process.argv[1], 'utf8').trim().split('\\n');
for (const part of [0, 1]) {
  new Worker(\`
    const fs = require('node:fs'), crypto = require('node:crypto'), { workerData } = require('node:worker_threads');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (const f of workerData) {
      const fd = fs.openSync(f, 'r'); const h = crypto.createHash('sha256');
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
      fs.closeSync(fd); h.digest('hex');
    }\`, { eval: true, workerData: files.filter((_, i) => i % 2 === part) });
}
`;

export default async function integrity(): Promise<BenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'hostguard-bench-integrity-'));
  const tree = join(work, 'tree');
  try {
    mkdirSync(tree);
    for (const source of sources) execFileSync('cp', ['-a', source, join(tree, source.replaceAll('/', '_'))]);
    const files = Number(execFileSync('sh', ['-c', `find ${tree} -type f | wc -l`]).toString());
    const paths = Number(execFileSync('sh', ['-c', `find ${tree} | wc -l`]).toString());
    const gb = Number(execFileSync('du', ['-sb', tree]).toString().split('\t')[0]) / 1e9;
    execFileSync('sh', ['-c', `find ${tree} -type f > ${join(work, 'files.txt')}`]);
    const sha256sum = () => timed('sh', ['-c', `find ${tree} -type f -print0 | xargs -0 -P2 -n64 sha256sum > /dev/null`]);
    sha256sum(); // warm the page cache: every tool below reads from memory

    const policy = policyFile(work, 'policy.yml', [
      'integrity:',
      `  paths: [${JSON.stringify(tree)}]`,
      '  running_executables: false',
      '  package_database: false',
      '  schedule: "*/5 * * * * *"',
    ]);
    const fullPolicy = policyFile(work, 'full.yml', [
      'integrity:',
      `  paths: [${JSON.stringify(tree)}]`,
      '  running_executables: false',
      '  package_database: false',
      '  schedule: "*/5 * * * * *"',
      '  full_rehash_interval: 1s',
    ]);
    // The defaults a user gets: running executables and dpkg's checksums too, the watch and the
    // host-wide search left out (their own benchmark is persistence.bench.ts).
    const defaultsPolicy = policyFile(work, 'defaults.yml', [
      'integrity:',
      `  paths: [${JSON.stringify(tree)}]`,
      '  ssh_authorized_keys: false',
      '  privileged_files: { enabled: false }',
    ]);
    const emptyPolicy = policyFile(work, 'empty.yml', [
      'integrity:',
      '  paths: []',
      '  running_executables: false',
      '  package_database: false',
    ]);
    const args = (p: string, state: string) => [
      '--collector.disable-defaults',
      '--collector.integrity',
      '--config.file',
      p,
      '--state.dir',
      state,
      '--log.level',
      'error',
    ];
    const stateDir = join(work, 'state');

    const init = best(3, () => {
      rmSync(stateDir, { recursive: true, force: true });
      return timed(cli, [...args(policy, stateDir), 'baseline', 'init']);
    });
    const checkFast = best(3, () => timed(cli, [...args(policy, stateDir), 'check']));
    const defaultsState = join(work, 'defaults-state');
    timed(cli, [...args(defaultsPolicy, defaultsState), 'baseline', 'init']);
    timed(cli, [...args(defaultsPolicy, defaultsState), 'check']); // the first check reads what no earlier scan did (MD5s, running images)
    const checkDefaults = best(3, () => timed(cli, [...args(defaultsPolicy, defaultsState), 'check']));
    const checkFull = best(3, () => {
      execFileSync('sleep', ['1.1']); // past full_rehash_interval: 1s
      return timed(cli, [...args(fullPolicy, stateDir), 'check']);
    });
    const bare = best(3, () => timed(process.execPath, ['-e', bareHasher, join(work, 'files.txt')]));
    const fast = await serveScans(policy, stateDir, 3, 'fast', 250);
    const full = await serveScans(fullPolicy, stateDir, 3, 'full', 20);
    const emptyState = join(work, 'empty-state');
    const empty = await serveScans(emptyPolicy, emptyState, 1, 'fast', 250);
    const baselineBytes = readFileSync(join(stateDir, 'baseline.json')).length;

    const aideConf = writeAideConfig(work, tree);
    const aideInit = best(2, () => timed('aide', ['--config', aideConf, '--init']));
    const aideInit2 = best(2, () => timed('aide', ['--config', aideConf, '--init', '--workers=2']));
    execFileSync('mv', [`${work}/aide.db.new`, `${work}/aide.db`]);
    const aideCheck = best(2, () => timed('aide', ['--config', aideConf, '--check']));
    const sha = best(3, sha256sum);

    const hostDefault = join(work, 'host-state');
    const hostArgs = ['--collector.disable-defaults', '--collector.integrity', '--state.dir', hostDefault];
    const hostInit = timed(cli, [...hostArgs, '--log.level', 'error', 'baseline', 'init']);
    const hostCheck = best(3, () => timed(cli, [...hostArgs, '--log.level', 'error', 'check']));
    const hostServe = await startHostguard(hostArgs);
    let hostScan: string;
    try {
      hostScan = await scrapeUntil(hostServe.url, (t) => (sampleValue(t, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0);
    } finally {
      await hostServe.stop();
    }
    const hostFiles = Object.keys(
      (JSON.parse(readFileSync(join(hostDefault, 'baseline.json'), 'utf8')) as { sections: { integrity: object } }).sections.integrity,
    ).length;

    const rate = (t: Timed) => `${(gb / t.seconds).toFixed(2)} GB/s`;
    const rows: BenchRow[] = [
      { subject: `reference tree`, figure: `${gb.toFixed(2)} GB, ${files} files, ${paths} paths`, command: `cp -a ${sources.join(' ')}` },
      {
        subject: 'hostguard `baseline init` (2 hash workers)',
        figure: `${seconds(init.seconds)} (${rate(init)}), peak RSS ${mib(init.maxRssBytes)}`,
        command: 'hostguard-exporter baseline init (best of 3, whole process)',
      },
      {
        subject: 'hostguard `check`, full rehash',
        figure: `${seconds(checkFull.seconds)} (${rate(checkFull)}), peak RSS ${mib(checkFull.maxRssBytes)}`,
        command: 'hostguard-exporter check, last full rehash older than full_rehash_interval (best of 3, whole process)',
      },
      {
        subject: 'hostguard `check`, fast path',
        figure: `${seconds(checkFast.seconds)}, peak RSS ${mib(checkFast.maxRssBytes)}`,
        command: 'hostguard-exporter check right after a full rehash (best of 3, whole process)',
      },
      {
        subject: 'hostguard `check`, unchanged tree, default options (running executables, dpkg checksums)',
        figure: `${seconds(checkDefaults.seconds)}, peak RSS ${mib(checkDefaults.maxRssBytes)}`,
        command:
          'hostguard-exporter check after an earlier check: hashes of the last scan from the state directory (best of 3, whole process)',
      },
      {
        subject: 'hostguard scan in serve, fast path, unchanged tree p50 / max',
        figure: `${seconds(fast.durations.p50Ms / 1000)} / ${seconds(fast.durations.p95Ms / 1000)}`,
        command: 'hostguard_integrity_last_scan_duration_seconds, 3 scans, a scrape every 250 ms',
      },
      {
        subject: 'hostguard scan in serve, full rehash p50 / max',
        figure: `${seconds(full.durations.p50Ms / 1000)} / ${seconds(full.durations.p95Ms / 1000)}`,
        command: 'full_rehash_interval: 1s, 3 scans, a scrape every 20 ms',
      },
      {
        subject: 'scrape p50 / p95 while full rehashes run',
        figure: `${full.scrapes.p50Ms.toFixed(1)} ms / ${full.scrapes.p95Ms.toFixed(1)} ms`,
        command: `${full.scrapes.runs} GET /metrics during the scans`,
      },
      {
        subject: 'serve RSS with this baseline loaded / with no watched paths',
        figure: `${mib(fast.rss)} / ${mib(empty.rss)} (baseline file ${mib(baselineBytes)})`,
        command: '/proc/PID/status VmRSS after the scans',
      },
      {
        subject: 'AIDE `--init`',
        figure: `${seconds(aideInit.seconds)} (${rate(aideInit)}), peak RSS ${mib(aideInit.maxRssBytes)}`,
        command: 'aide --init (sha256, same attributes; best of 2)',
      },
      {
        subject: 'AIDE `--init --workers=2`',
        figure: `${seconds(aideInit2.seconds)} (${rate(aideInit2)}), peak RSS ${mib(aideInit2.maxRssBytes)}`,
        command: 'aide --init --workers=2 (best of 2)',
      },
      {
        subject: 'AIDE `--check`, unchanged tree',
        figure: `${seconds(aideCheck.seconds)}, peak RSS ${mib(aideCheck.maxRssBytes)}`,
        command: 'aide --check (best of 2)',
      },
      {
        subject: 'bare two-worker-thread SHA-256 hasher (what this machine gives right now)',
        figure: `${seconds(bare.seconds)} (${rate(bare)})`,
        command: 'node: 2 worker_threads, readSync 1 MiB, files split in turn (best of 3)',
      },
      {
        subject: '`xargs -P2 sha256sum`',
        figure: `${seconds(sha.seconds)} (${rate(sha)})`,
        command: 'find -type f -print0 | xargs -0 -P2 -n64 sha256sum (best of 3)',
      },
      {
        subject: 'hostguard `baseline init`, embedded default policy on this host',
        figure: `${seconds(hostInit.seconds)}, ${hostFiles} paths, peak RSS ${mib(hostInit.maxRssBytes)}`,
        command: 'default paths; learning reads SHA-256 only (whole process)',
      },
      {
        subject: 'hostguard `check`, default policy, after init',
        figure: `${seconds(hostCheck.seconds)}, peak RSS ${mib(hostCheck.maxRssBytes)}`,
        command: 'fast path + MD5 of dpkg-owned files + running executables (best of 3, whole process)',
      },
      {
        subject: 'hostguard scan at start of serve, default policy, after init',
        figure: `${seconds(sampleValue(hostScan, 'hostguard_integrity_last_scan_duration_seconds') ?? NaN)}, ${((sampleValue(hostScan, 'hostguard_integrity_last_scan_hashed_bytes') ?? NaN) / 1e6).toFixed(0)} MB read`,
        command: 'in the background after listening: MD5s of dpkg-owned files, running executables',
      },
    ];
    return {
      name: 'Integrity: hashing the reference tree, beside AIDE and sha256sum (warm page cache)',
      rows,
      ratios: [
        `hostguard init / AIDE --init = ${(init.seconds / aideInit.seconds).toFixed(2)}; / AIDE --init --workers=2 = ${(init.seconds / aideInit2.seconds).toFixed(2)}`,
        `hostguard fast-path scan / AIDE --check = ${(fast.durations.p50Ms / 1000 / aideCheck.seconds).toFixed(3)}`,
        `hostguard check, default options, unchanged tree / AIDE --check = ${(checkDefaults.seconds / aideCheck.seconds).toFixed(3)} (target ≤ 0.1)`,
        `hostguard full-rehash scan / AIDE --check = ${(full.durations.p50Ms / 1000 / aideCheck.seconds).toFixed(2)}; / xargs -P2 sha256sum = ${(full.durations.p50Ms / 1000 / sha.seconds).toFixed(2)}`,
        `hostguard baseline init / bare two-worker hasher = ${(init.seconds / bare.seconds).toFixed(2)}`,
      ],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

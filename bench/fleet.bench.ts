import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFleet, fleetBinary, type FleetProcess } from '../test/helpers/fleet-hosts.js';
import { executableFacts, type FlaggedImage } from '../src/fleet/flagged-images.js';
import { ImageHashes } from '../src/fleet/image-hashes.js';
import { ms, timeAsync } from './lib/measure.js';
import type { BenchResult, BenchRow } from './lib/report.js';
import { startHostguard, type Server } from './lib/servers.js';

/**
 * What one host costs the monitoring side, and what the fleet facts cost the exporter:
 * - series per host, as a real Prometheus counts them for a target (`count({instance=...})`,
 *   which includes up and the scrape_* series): this machine with the default collectors, and a
 *   fixture host with more flagged executables and listeners than every cap allows;
 * - samples per second at a 15 s scrape interval for 1,000 and 10,000 such hosts;
 * - the scrape with the facts on (one stat per flagged image per collection) and off, and how long
 *   a new image of 64 MiB takes to get its fact (hashed in a worker after the collection).
 */
const flaggedImages = 200;
const scrapeRuns = 100;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function metricsText(server: Server): Promise<string> {
  return (await fetch(`${server.url}/metrics`)).text();
}

function sample(text: string, pattern: RegExp): number | undefined {
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A real Prometheus scraping the targets every 2 seconds: it says how many series each one is. */
async function seriesPerTarget(dir: string, targets: Record<string, string>): Promise<Record<string, number>> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'prometheus.yml');
  const jobs = Object.entries(targets).map(
    ([job, url]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ["${new URL(url).host}"]`,
  );
  writeFileSync(config, `global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\nscrape_configs:\n${jobs.join('\n')}\n`);
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  try {
    const query = async (expr: string) => {
      const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      return body.data.result;
    };
    // Three scrapes of every target, so the series of the second collection on are in.
    await until('three scrapes of every target', async () => {
      try {
        const scraped = await query('count_over_time(up[1m]) >= 3');
        return scraped.length === Object.keys(targets).length ? true : undefined;
      } catch {
        return undefined;
      }
    });
    const counts = await query('count by (job) ({job=~".+"})');
    return Object.fromEntries(counts.map((s) => [s.metric['job']!, Number(s.value[1])]));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export default async function fleet(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hostguard-bench-fleet-'));
  const servers: Server[] = [];
  try {
    // This machine, default collectors and policy: what an ordinary host costs.
    const real = await startHostguard(['--state.dir', join(dir, 'state')]);
    servers.push(real);
    await until('the first integrity scan', async () =>
      (sample(await metricsText(real), /^hostguard_integrity_last_scan_end_timestamp_seconds /) ?? 0) > 0 ? true : undefined,
    );

    // A host with more flagged executables, each listening on a port of its own, than every cap allows.
    mkdirSync(join(dir, 'bin'));
    const processes: FleetProcess[] = Array.from({ length: flaggedImages }, (_, i) => ({
      pid: 1000 + i,
      comm: `implant${i}`,
      exe: fleetBinary(join(dir, 'bin', `implant-${i}`), `implant ${i}`),
      uid: 33,
      listens: [20000 + i],
    }));
    const [worst] = buildFleet(join(dir, 'fleet'), 1, () => processes);
    // What the facts add to a collection once the images are hashed: one stat per image, the rows.
    const hashes = new ImageHashes(async (jobs) => jobs.map((j) => ({ bytes: 0, sha256: j.file.padEnd(64, '0').slice(0, 64) })));
    hashes.start();
    const images: FlaggedImage[] = processes.map((p) => ({ exe: p.exe, kind: 'writable_location', pids: [p.pid] }));
    const lookup = (pid: number) => hashes.lookup(join(worst!.procfs, String(pid), 'exe'));
    executableFacts(images, lookup);
    hashes.flush();
    await hashes.settled();
    const factsCost = await timeAsync(async () => executableFacts(images, lookup), 1000, 20);
    const worstServer = await startHostguard(worst!.args);
    servers.push(worstServer);
    await until('every fact hashed', async () => {
      const text = await metricsText(worstServer);
      return sample(text, /^hostguard_flagged_executables_unhashed\{metric="hostguard_flagged_executable_info",reason="pending"\}/) === 0 &&
        sample(text, /^hostguard_flagged_executables_unhashed\{metric="hostguard_flagged_listener_info",reason="pending"\}/) === 0
        ? true
        : undefined;
    });
    const worstText = await metricsText(worstServer);
    const dropped = sample(worstText, /^hostguard_finding_series_dropped\{metric="hostguard_flagged_executable_info"\}/);

    const series = await seriesPerTarget(join(dir, 'prometheus'), { ordinary: real.url, worst: worstServer.url });
    const ordinary = series['ordinary']!;
    const saturated = series['worst']!;

    // The scrape of the fixture host with the facts on, then off (same policy but max_series 0).
    const withFacts = await timeAsync(() => metricsText(worstServer), scrapeRuns);
    const offPolicy = join(dir, 'facts-off.yml');
    writeFileSync(
      offPolicy,
      'processes:\n  start_watch: { enabled: false }\n  hidden_sweep: { enabled: false }\n  fleet_facts: { max_series: 0 }\nlisteners:\n  hidden_ports: { enabled: false }\n  fleet_facts: { max_series: 0 }\n',
    );
    const offServer = await startHostguard(worst!.args.map((a) => (a === worst!.policy ? offPolicy : a)));
    servers.push(offServer);
    const withoutFacts = await timeAsync(() => metricsText(offServer), scrapeRuns);

    // A new flagged image of 64 MiB: from the scrape that flags it to the scrape that has its fact.
    const bigBinary = join(dir, 'bin', 'big');
    writeFileSync(bigBinary, Buffer.alloc(64 << 20, 7));
    const [big] = buildFleet(join(dir, 'big'), 1, () => [{ pid: 700, comm: 'big', exe: bigBinary, uid: 0 }]);
    const bigServer = await startHostguard(big!.args);
    servers.push(bigServer);
    const flaggedAt = performance.now();
    await metricsText(bigServer);
    await until('the fact of the 64 MiB image', async () =>
      /^hostguard_flagged_executable_info\{/m.test(await metricsText(bigServer)) ? true : undefined,
    );
    const bigFactMs = performance.now() - flaggedAt;

    const perSecond = (perHost: number, hosts: number) => Math.round((perHost * hosts) / 15).toLocaleString('en-US');
    const rows: BenchRow[] = [
      {
        subject: 'series per host: this machine, default collectors and policy',
        figure: String(ordinary),
        command: 'Prometheus 2.42 scraping it: count by (job) ({job=~".+"}), up and scrape_* included',
      },
      {
        subject: `series per host: ${flaggedImages} flagged executables each listening on its own port (every per-finding cap full)`,
        figure: `${saturated} (facts: 50 executables + 50 listeners; ${dropped} executables dropped)`,
        command: 'same, processes and network collectors on a fixture --path.procfs',
      },
      {
        subject: 'samples/s at 15 s, 1,000 hosts like this machine',
        figure: perSecond(ordinary, 1000),
        command: `${ordinary} × 1000 / 15`,
      },
      {
        subject: 'samples/s at 15 s, 10,000 hosts like this machine',
        figure: perSecond(ordinary, 10000),
        command: `${ordinary} × 10000 / 15`,
      },
      {
        subject: "samples/s at 15 s, 1,000 hosts at the fixture's full caps",
        figure: perSecond(saturated, 1000),
        command: `${saturated} × 1000 / 15`,
      },
      {
        subject: "samples/s at 15 s, 10,000 hosts at the fixture's full caps",
        figure: perSecond(saturated, 10000),
        command: `${saturated} × 10000 / 15`,
      },
      {
        subject: `executable facts of ${flaggedImages} hashed images in one collection (p50 / p95)`,
        figure: `${ms(factsCost.p50Ms)} / ${ms(factsCost.p95Ms)}`,
        command: 'executableFacts() with ImageHashes.lookup (one stat of /proc/PID/exe each), 1000 runs in process',
      },
      {
        subject: `scrape p50 / p95, ${flaggedImages} flagged images, facts on`,
        figure: `${ms(withFacts.p50Ms)} / ${ms(withFacts.p95Ms)}`,
        command: `${scrapeRuns} sequential GET /metrics`,
      },
      {
        subject: `scrape p50 / p95, ${flaggedImages} flagged images, facts off (max_series: 0)`,
        figure: `${ms(withoutFacts.p50Ms)} / ${ms(withoutFacts.p95Ms)}`,
        command: `${scrapeRuns} sequential GET /metrics`,
      },
      {
        subject: 'a new 64 MiB flagged image: from its first scrape to its fact',
        figure: ms(bigFactMs),
        command: 'GET /metrics, then polled every 200 ms',
      },
    ];
    return { name: 'Fleet: series per host and the cost of the fleet facts', rows };
  } finally {
    for (const server of servers) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

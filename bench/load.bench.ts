import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startBusyHost, parseWrk } from './lib/busy-host.js';
import { cpuSeconds, rssBytes } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { startHostguard } from './lib/servers.js';

const seconds = Number(process.env.LOAD_SECONDS ?? 60);

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/**
 * 50 concurrent scrapers (wrk) for a minute against the exporter with every default collector, on a
 * host with ~1,000 processes and 200 listeners, while integrity scans hash both cores' worth and
 * auth lines stream in.
 */
export default async function load(): Promise<BenchResult> {
  const host = await startBusyHost({
    sleepers: 1000,
    listeners: 200,
    authLinesPerSecond: 2000,
    watched: ['/usr/bin', '/usr/sbin', '/usr/lib/x86_64-linux-gnu'],
    rehashEvery: '30s',
  });
  const exporter = await startHostguard(['--state.dir', join(host.dir, 'state'), '--config.file', host.policy]);
  try {
    const pid = exporter.child.pid!;
    await new Promise((r) => setTimeout(r, 3000));
    const before = await (await fetch(`${exporter.url}/metrics`)).text();
    const rssBefore = rssBytes(pid);
    const cpuBefore = cpuSeconds(pid);
    const wrk = spawnSync('wrk', ['-t2', '-c50', `-d${seconds}s`, '--timeout', '10s', '--latency', `${exporter.url}/metrics`], {
      encoding: 'utf8',
    });
    if (wrk.status !== 0) throw new Error(`wrk failed: ${wrk.stderr}`);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const rssAfter = rssBytes(pid);
    const after = await (await fetch(`${exporter.url}/metrics`)).text();
    const w = parseWrk(wrk.stdout);
    const collections = metric(after, 'hostguard_collections_total') - metric(before, 'hostguard_collections_total');
    const scans = metric(after, 'hostguard_integrity_scans_total') - metric(before, 'hostguard_integrity_scans_total');
    const authLines = metric(after, 'hostguard_auth_lines_read_total') - metric(before, 'hostguard_auth_lines_read_total');
    const failures = metric(after, 'hostguard_scrape_collector_success') < 4 ? 'a collector failed' : 'none';
    return {
      name: `Load: wrk, 50 connections for ${seconds} s, every default collector, 1,000 extra processes, 200 listeners, integrity rehash every 30 s, 2,000 auth lines/s`,
      rows: [
        {
          subject: 'scrapes served',
          figure: `${w.requests} (${(w.requests / seconds).toFixed(0)}/s)`,
          command: `wrk -t2 -c50 -d${seconds}s --latency /metrics`,
        },
        { subject: 'failed scrapes (non-2xx, socket errors)', figure: `${w.non2xx}, ${w.socketErrors}`, command: 'wrk' },
        {
          subject: 'latency p50 / p90 / p99',
          figure: `${w.p50Ms.toFixed(1)} / ${w.p90Ms.toFixed(1)} / ${w.p99Ms.toFixed(1)} ms`,
          command: 'wrk --latency',
        },
        { subject: 'p99 / p50', figure: (w.p99Ms / w.p50Ms).toFixed(2), command: 'target ≤ 3' },
        {
          subject: 'collections run for those scrapes',
          figure: `${collections} (${(w.requests / Math.max(1, collections)).toFixed(1)} scrapes per collection)`,
          command: 'hostguard_collections_total',
        },
        { subject: 'integrity scans during the run', figure: String(scans), command: 'hostguard_integrity_scans_total' },
        { subject: 'auth lines read during the run', figure: String(authLines), command: 'hostguard_auth_lines_read_total' },
        { subject: 'collector failures', figure: failures, command: 'hostguard_scrape_collector_success' },
        { subject: 'exporter CPU', figure: `${(cpu / seconds).toFixed(2)} cores`, command: '/proc/PID/stat' },
        {
          subject: 'exporter RSS before / after',
          figure: `${(rssBefore / 2 ** 20).toFixed(1)} / ${(rssAfter / 2 ** 20).toFixed(1)} MiB`,
          command: '/proc/PID/status VmRSS',
        },
      ],
    };
  } finally {
    await exporter.stop();
    await host.stop();
  }
}

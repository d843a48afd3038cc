import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, ms, rssBytes, timeAsync } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { startHostguard, startNodeExporter } from './lib/servers.js';

const runs = 200;

/** A whole scrape of hostguard-exporter with its default collectors, beside node_exporter's default scrape. */
export default async function scrape(): Promise<BenchResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'hostguard-bench-'));
  const hostguard = await startHostguard(['--state.dir', stateDir]);
  const nodeExporter = await startNodeExporter(19100 + Math.floor(Math.random() * 800));
  try {
    const fetchAll = (url: string) => () => fetch(`${url}/metrics`).then((r) => r.text());
    const measure = async (server: typeof hostguard) => {
      const cpuBefore = cpuSeconds(server.child.pid!);
      const timing = await timeAsync(fetchAll(server.url), runs);
      const cpuPerScrape = ((cpuSeconds(server.child.pid!) - cpuBefore) / (runs + 3)) * 1000;
      return { timing, cpuPerScrape, rss: rssBytes(server.child.pid!) };
    };
    const hg = await measure(hostguard);
    const ne = await measure(nodeExporter);
    return {
      name: 'Scrape: hostguard-exporter (default collectors) vs node_exporter (default collectors)',
      rows: [
        {
          subject: 'hostguard-exporter scrape p50 / p95',
          figure: `${ms(hg.timing.p50Ms)} / ${ms(hg.timing.p95Ms)}`,
          command: `${runs} sequential GET /metrics`,
        },
        { subject: 'hostguard-exporter CPU per scrape', figure: ms(hg.cpuPerScrape), command: '/proc/PID/stat utime+stime over the run' },
        {
          subject: 'hostguard-exporter RSS after the run',
          figure: `${(hg.rss / 2 ** 20).toFixed(1)} MiB`,
          command: '/proc/PID/status VmRSS',
        },
        {
          subject: 'node_exporter scrape p50 / p95',
          figure: `${ms(ne.timing.p50Ms)} / ${ms(ne.timing.p95Ms)}`,
          command: `${runs} sequential GET /metrics`,
        },
        { subject: 'node_exporter CPU per scrape', figure: ms(ne.cpuPerScrape), command: '/proc/PID/stat utime+stime over the run' },
        { subject: 'node_exporter RSS after the run', figure: `${(ne.rss / 2 ** 20).toFixed(1)} MiB`, command: '/proc/PID/status VmRSS' },
      ],
      ratios: [`hostguard p50 / node_exporter p50 = ${(hg.timing.p50Ms / ne.timing.p50Ms).toFixed(2)}`],
    };
  } finally {
    await hostguard.stop();
    await nodeExporter.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

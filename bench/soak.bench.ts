import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startBusyHost } from './lib/busy-host.js';
import { rssBytes } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { startHostguard } from './lib/servers.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);

/** Ten minutes of steady scraping on the busy host: does the resident set grow from minute 1 to the end? */
export default async function soak(): Promise<BenchResult> {
  const host = await startBusyHost({ sleepers: 1000, listeners: 200, authLinesPerSecond: 2000, watched: ['/usr/bin', '/usr/sbin'], rehashEvery: '1m' });
  const exporter = await startHostguard(['--state.dir', join(host.dir, 'state'), '--config.file', host.policy]);
  const wrk = spawn('wrk', ['-t1', '-c10', `-d${minutes * 60}s`, `${exporter.url}/metrics`], { stdio: 'ignore' });
  const samples: Array<[number, number]> = [];
  try {
    const pid = exporter.child.pid!;
    for (let minute = 1; minute <= minutes; minute++) {
      await new Promise((r) => setTimeout(r, 60_000));
      samples.push([minute, rssBytes(pid)]);
    }
    const first = samples[0]![1];
    const last = samples[samples.length - 1]![1];
    return {
      name: `Soak: ${minutes} minutes of wrk (10 connections) on the busy host`,
      rows: [
        ...samples.map(([minute, rss]) => ({ subject: `RSS at minute ${minute}`, figure: `${(rss / 2 ** 20).toFixed(1)} MiB`, command: '/proc/PID/status VmRSS' })),
        { subject: `RSS growth, minute 1 to ${minutes}`, figure: `${(((last - first) / first) * 100).toFixed(1)} %`, command: 'target ≤ 5 %' },
      ],
    };
  } finally {
    wrk.kill('SIGKILL');
    await exporter.stop();
    await host.stop();
  }
}

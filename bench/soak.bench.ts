import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startBusyHost } from './lib/busy-host.js';
import { rssBytes } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { startHostguard } from './lib/servers.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);

/**
 * Ten minutes of steady scraping on the busy host: does the resident set grow from minute 1 to the
 * end? RSS swings by tens of MiB within a minute (a full rehash every minute, garbage collections),
 * so it is sampled every 5 s and each minute is read by its median.
 */
export default async function soak(): Promise<BenchResult> {
  const host = await startBusyHost({
    sleepers: 1000,
    listeners: 200,
    authLinesPerSecond: 2000,
    watched: ['/usr/bin', '/usr/sbin'],
    rehashEvery: '1m',
  });
  const exporter = await startHostguard(['--state.dir', join(host.dir, 'state'), '--config.file', host.policy]);
  const wrk = spawn('wrk', ['-t1', '-c10', `-d${minutes * 60}s`, `${exporter.url}/metrics`], { stdio: 'ignore' });
  const perMinute: number[][] = [];
  try {
    const pid = exporter.child.pid!;
    for (let minute = 1; minute <= minutes; minute++) {
      const samples: number[] = [];
      for (let i = 0; i < 12; i++) {
        await new Promise((r) => setTimeout(r, 5000));
        samples.push(rssBytes(pid));
      }
      perMinute.push(samples.sort((a, b) => a - b));
    }
    const mib = (v: number) => `${(v / 2 ** 20).toFixed(1)}`;
    const median = (s: number[]) => s[Math.floor(s.length / 2)]!;
    const first = median(perMinute[0]!);
    const last = median(perMinute[perMinute.length - 1]!);
    return {
      name: `Soak: ${minutes} minutes of wrk (10 connections) on the busy host`,
      rows: [
        ...perMinute.map((s, i) => ({
          subject: `RSS in minute ${i + 1}: median (min–max)`,
          figure: `${mib(median(s))} MiB (${mib(s[0]!)}–${mib(s[s.length - 1]!)})`,
          command: '/proc/PID/status VmRSS every 5 s',
        })),
        {
          subject: `RSS growth, median of minute 1 to median of minute ${minutes}`,
          figure: `${(((last - first) / first) * 100).toFixed(1)} %`,
          command: 'target ≤ 5 %',
        },
      ],
    };
  } finally {
    wrk.kill('SIGKILL');
    await exporter.stop();
    await host.stop();
  }
}

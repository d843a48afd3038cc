import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExposition, sampleValue } from '../test/helpers/exposition.js';
import { cpuSeconds } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';
import { repoRoot, startHostguard } from './lib/servers.js';

const lines = 1_000_000;

/**
 * The ids collector on 1,000,000 Suricata EVE records (the fixture's mix: 11 alerts in 17 records),
 * beside jq counting the same file's alerts by severity, the one-liner an operator would run.
 */
export default async function ids(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hostguard-bench-ids-'));
  try {
    const generated = join(dir, 'generated.json');
    const fixture = readFileSync(join(repoRoot, 'test', 'fixtures', 'ids', 'suricata-eve.json'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const records: string[] = [];
    let alerts = 0;
    for (let i = 0; i < lines; i++) {
      const line = fixture[i % fixture.length]!;
      if (line.includes('"event_type":"alert"')) alerts++;
      records.push(line);
    }
    writeFileSync(generated, records.join('\n') + '\n');
    const bytes = statSync(generated).size;
    const exporter = await throughExporter(dir, generated);
    const jq = jqCount(generated);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')} records/s`;
    return {
      name: `IDS: ${lines.toLocaleString('en-US')} Suricata EVE records (${mib(bytes)}, ${alerts.toLocaleString('en-US')} alerts), hostguard-exporter vs jq`,
      rows: [
        {
          subject: 'hostguard-exporter serve: appended records counted',
          figure: `${exporter.seconds.toFixed(2)} s, ${rate(lines, exporter.seconds)}`,
          command: 'cat generated.json >> eve.json; scrape every 50 ms until hostguard_ids_lines_read_total = 1,000,000',
        },
        {
          subject: 'hostguard-exporter serve: CPU for them',
          figure: `${exporter.cpuSeconds.toFixed(2)} s`,
          command: '/proc/PID/stat utime+stime',
        },
        { subject: 'hostguard-exporter serve: peak RSS', figure: mib(exporter.peakRss), command: '/proc/PID/status VmHWM' },
        {
          subject: 'alerts counted by hostguard',
          figure: exporter.alerts.toLocaleString('en-US'),
          command: 'sum(hostguard_ids_alerts_total)',
        },
        {
          subject: 'jq',
          figure: `${jq.seconds.toFixed(2)} s, ${rate(lines, jq.seconds)}; peak RSS ${mib(jq.peakRss)}`,
          command: `jq -c 'select(.event_type=="alert") | .alert.severity' generated.json | sort | uniq -c`,
        },
        { subject: 'alerts counted by jq', figure: jq.alerts.toLocaleString('en-US'), command: 'sum of its uniq -c counts' },
      ],
      ratios: [`jq seconds ÷ hostguard serve seconds = ${(jq.seconds / exporter.seconds).toFixed(1)}×`],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughExporter(
  dir: string,
  generated: string,
): Promise<{ seconds: number; cpuSeconds: number; peakRss: number; alerts: number }> {
  const eve = join(dir, 'eve.json');
  writeFileSync(eve, '');
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, `ids:\n  sources:\n    - {type: suricata, path: ${eve}}\n`);
  const server = await startHostguard([
    '--state.dir',
    join(dir, 'state'),
    '--config.file',
    policy,
    '--collector.disable-defaults',
    '--collector.ids',
  ]);
  try {
    const pid = server.child.pid!;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    execFileSync('sh', ['-c', `cat '${generated}' >> '${eve}'`]);
    for (;;) {
      const samples = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
      if ((sampleValue(samples, 'hostguard_ids_lines_read_total', { source: eve }) ?? 0) >= lines) {
        const seconds = (performance.now() - t0) / 1000;
        const alerts = samples.filter((s) => s.name === 'hostguard_ids_alerts_total').reduce((sum, s) => sum + s.value, 0);
        const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
        return { seconds, cpuSeconds: cpuSeconds(pid) - cpu0, peakRss, alerts };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await server.stop();
  }
}

/** jq under GNU time (the jq process: wall seconds and maximum resident set), piped through sort | uniq -c. */
function jqCount(generated: string): { seconds: number; peakRss: number; alerts: number } {
  const run = spawnSync(
    'sh',
    ['-c', `/usr/bin/time -f 'TIME %e %M' jq -c 'select(.event_type=="alert") | .alert.severity' '${generated}' | sort | uniq -c`],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const time = /TIME ([\d.]+) (\d+)/.exec(run.stderr);
  if (!time) throw new Error(`jq did not run: ${run.stderr.slice(-500)}`);
  const alerts = run.stdout.split('\n').reduce((sum, l) => sum + Number(/^\s*(\d+)/.exec(l)?.[1] ?? 0), 0);
  return { seconds: Number(time[1]), peakRss: Number(time[2]) * 1024, alerts };
}

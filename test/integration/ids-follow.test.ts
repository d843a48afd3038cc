import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  utimesSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { parseExposition, sampleValue, type Sample } from '../helpers/exposition.js';
import { eventually } from '../helpers/eventually.js';
import { ioOf, stopProcess } from '../helpers/processes.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/ids/${name}`, import.meta.url), 'utf8');
const eveLines = fixture('suricata-eve.json')
  .split('\n')
  .filter((l) => l !== '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes EVE records cycling through the fixture (11 alerts in 17 lines), counting what it wrote. */
class EveWriter {
  lines = 0;
  alerts = 0;
  write(target: string | number, count: number): void {
    const out: string[] = [];
    for (let n = 0; n < count; n++, this.lines++) {
      const line = eveLines[this.lines % eveLines.length]!;
      if (line.includes('"event_type":"alert"')) this.alerts++;
      out.push(line + '\n');
    }
    if (typeof target === 'number') writeSync(target, out.join(''));
    else appendFileSync(target, out.join(''));
  }
}

async function scrape(exporter: RunningExporter): Promise<Sample[]> {
  return parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
}

const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

/** Scrape until the exporter has read `lines` lines of the source (each scrape reads what is written first). */
async function caughtUp(exporter: RunningExporter, source: string, lines: number): Promise<Sample[]> {
  return eventually(
    async () => {
      const samples = await scrape(exporter);
      return (sampleValue(samples, 'hostguard_ids_lines_read_total', { source }) ?? 0) >= lines && samples;
    },
    { timeoutMs: 90_000, what: `${lines} lines read` },
  );
}

function ids(dir: string, sources: string, extra = ''): string[] {
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, `ids:\n  sources:\n${sources}${extra}`);
  return ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.ids'];
}

describe('following IDS outputs through rotation, truncation and restarts', () => {
  it('counts every Suricata alert exactly once across rename and copytruncate rotations and two restarts', async () => {
    const dir = tempDir();
    const eve = join(dir, 'eve.json');
    const args = ids(dir, `    - {type: suricata, path: ${eve}}\n`);
    // Alerts from before the exporter was installed: a first start begins at the end.
    new EveWriter().write(eve, 500);
    const writer = new EveWriter();
    const runs: Sample[][] = [];

    const a = await startExporter(args);
    writer.write(eve, 1000);
    // Rename rotation, the writer appending to the old file until it reopens.
    const late = openSync(eve, 'a');
    renameSync(eve, `${eve}.1`);
    writer.write(late, 300);
    writer.write(eve, 700);
    await sleep(50);
    writer.write(late, 100);
    closeSync(late);
    await caughtUp(a, eve, writer.lines);
    // copytruncate right after a write: those alerts reach the exporter only through the copy.
    writer.write(eve, 500);
    copyFileSync(eve, `${eve}.2`);
    truncateSync(eve, 0);
    writer.write(eve, 200);
    runs.push(await caughtUp(a, eve, writer.lines));
    let read = sum(runs[0]!, 'hostguard_ids_lines_read_total');
    expect(read).toBe(writer.lines);
    await stopProcess(a.child);

    // While stopped: more alerts, then a rotation, then alerts in the new file.
    writer.write(eve, 400);
    renameSync(eve, `${eve}.3`);
    writer.write(eve, 600);
    const b = await startExporter(args);
    runs.push(await caughtUp(b, eve, writer.lines - read));
    read += sum(runs[1]!, 'hostguard_ids_lines_read_total');
    await stopProcess(b.child, 'SIGKILL');

    // Killed without saving its last position: at most the last second is read again, none skipped.
    writer.write(eve, 300);
    const c = await startExporter(args);
    runs.push(await caughtUp(c, eve, writer.lines - read));
    await stopProcess(c.child);

    // A clean stop saves the position: the first two runs read every line once.
    expect(sum(runs[0]!, 'hostguard_ids_alerts_total') + sum(runs[1]!, 'hostguard_ids_alerts_total')).toBe(countAlerts(0, read));
    // Killed: the position saved up to a second before may make it read the last lines again, never skip one.
    const third = sum(runs[2]!, 'hostguard_ids_lines_read_total');
    const repeated = third - (writer.lines - read);
    expect(repeated).toBeGreaterThanOrEqual(0);
    expect(sum(runs[2]!, 'hostguard_ids_alerts_total')).toBe(countAlerts(read - repeated, third));
    expect(sum(runs[1]!, 'hostguard_ids_source_gaps_total')).toBe(0);
    expect(sampleValue(runs[2]!, 'hostguard_ids_source_healthy', { source: eve, tool: 'suricata' })).toBe(1);
  }, 120_000);

  it('follows Snort 3 and Wazuh outputs from the beginning, and keeps the last alert time across a restart', async () => {
    const dir = tempDir();
    const snort = join(dir, 'alert_json.txt');
    const wazuh = join(dir, 'alerts.json');
    writeFileSync(snort, fixture('snort3-alert_json.txt'));
    writeFileSync(wazuh, fixture('wazuh-alerts.json'));
    const args = ids(
      dir,
      `    - {type: snort, path: ${snort}, start_at: beginning}\n    - {type: wazuh, path: ${wazuh}, start_at: beginning}\n`,
    );
    const a = await startExporter(args);
    let samples = await caughtUp(a, wazuh, 11);
    expect(sum(samples, 'hostguard_ids_alerts_total', { source: snort, tool: 'snort' })).toBe(8);
    expect(sum(samples, 'hostguard_ids_alerts_total', { source: wazuh, tool: 'wazuh' })).toBe(11);
    expect(sampleValue(samples, 'hostguard_ids_alerts_total', { source: wazuh, alert_severity: 'critical', category: 'exploit' })).toBe(1);
    // Every class exists from the start, at 0, so a rule's increase() sees the first alert of a kind.
    expect(sampleValue(samples, 'hostguard_ids_alerts_total', { source: wazuh, alert_severity: 'critical', category: 'dos' })).toBe(0);
    expect(sampleValue(samples, 'hostguard_ids_last_alert_timestamp_seconds', { source: wazuh, tool: 'wazuh' })).toBe(1709546410);
    expect(sampleValue(samples, 'hostguard_ids_source_max_silence_seconds', { source: snort, tool: 'snort' })).toBe(0);
    await stopProcess(a.child);
    const b = await startExporter(args);
    samples = await scrape(b);
    expect(sum(samples, 'hostguard_ids_alerts_total')).toBe(0);
    expect(sampleValue(samples, 'hostguard_ids_last_alert_timestamp_seconds', { source: wazuh, tool: 'wazuh' })).toBe(1709546410);
  });
});

/** Alerts among the first `lines` lines an EveWriter writes. */
function countAlerts(from: number, lines: number): number {
  let n = 0;
  for (let i = from; i < from + lines; i++) if (eveLines[i % eveLines.length]!.includes('"event_type":"alert"')) n++;
  return n;
}

describe('bad input in IDS outputs', () => {
  it('counts truncated lines, junk, glued fragments, huge and oversized events, and every alert around them', async () => {
    const dir = tempDir();
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, '');
    const exporter = await startExporter(ids(dir, `    - {type: suricata, path: ${eve}}\n`));
    const alert = eveLines[6]!; // high/exploit
    const huge = alert
      .replace('"stream":', '"payload_printable":"' + 'A'.repeat(300_000) + '","stream":')
      .replace('}', `,"payload":"${'QUFB'.repeat(75_000)}"}`);
    const oversized = alert.replace('{', `{"padding":"${'x'.repeat(2 * 1024 * 1024)}",`);
    appendFileSync(
      eve,
      [
        alert,
        alert.slice(0, 120), // a truncated line (disk full, killed writer)
        Buffer.from([0, 1, 2, 0xff, 0xfe]).toString('latin1'), // junk
        alert.slice(0, 200) + alert, // a fragment glued to the next event
        huge, // 600 KB, under the 1 MiB limit: counted
        oversized, // 2 MiB: cut, counted as truncated and unparsed
        '{"event_type":"alert","alert":null}',
        alert,
      ].join('\n') + '\n',
    );
    const samples = await caughtUp(exporter, eve, 8);
    expect(sampleValue(samples, 'hostguard_ids_lines_read_total', { source: eve })).toBe(8);
    expect(
      sampleValue(samples, 'hostguard_ids_alerts_total', { source: eve, tool: 'suricata', alert_severity: 'high', category: 'exploit' }),
    ).toBe(4);
    expect(sampleValue(samples, 'hostguard_ids_lines_unparsed_total', { source: eve, reason: 'invalid_json' })).toBe(3);
    expect(sampleValue(samples, 'hostguard_ids_lines_unparsed_total', { source: eve, reason: 'not_an_event' })).toBe(1);
    expect(sampleValue(samples, 'hostguard_ids_event_fragments_total', { source: eve })).toBe(1);
    expect(sampleValue(samples, 'hostguard_ids_lines_truncated_total', { source: eve })).toBe(1);
    // The exporter is still there and still counting.
    appendFileSync(eve, alert + '\n');
    expect(
      sampleValue(await caughtUp(exporter, eve, 9), 'hostguard_ids_alerts_total', {
        source: eve,
        tool: 'suricata',
        alert_severity: 'high',
        category: 'exploit',
      }),
    ).toBe(5);
  });
  it('a reload changing only start_at and max_event_bytes keeps reading where it was, with the new limit', async () => {
    const dir = tempDir();
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, '');
    const source = `    - {type: suricata, path: ${eve}}\n`;
    const args = ids(dir, source);
    const policy = args[args.indexOf('--config.file') + 1]!;
    const exporter = await startExporter(args);
    const writer = new EveWriter();
    writer.write(eve, 17);
    await caughtUp(exporter, eve, 17);
    // Read by the background follower after the last scrape, so after the last checkpoint: with no
    // scrape meanwhile, the exporter has read at least as many bytes as were written.
    const before = { size: statSync(eve).size, read: ioOf(exporter.child.pid!).read };
    writer.write(eve, 17);
    const written = statSync(eve).size - before.size;
    await eventually(() => ioOf(exporter.child.pid!).read - before.read >= written, { what: 'the 17 lines read by the follower' });
    writeFileSync(policy, `ids:\n  sources:\n    - {type: suricata, path: ${eve}, start_at: beginning}\n  max_event_bytes: 4096\n`);
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    writer.write(eve, 17);
    appendFileSync(eve, eveLines[6]!.replace('{', `{"padding":"${'x'.repeat(8192)}",`) + '\n');
    const samples = await caughtUp(exporter, eve, 52);
    expect(sampleValue(samples, 'hostguard_ids_lines_read_total', { source: eve })).toBe(52);
    expect(sum(samples, 'hostguard_ids_alerts_total', { source: eve })).toBe(writer.alerts);
    expect(sampleValue(samples, 'hostguard_ids_lines_truncated_total', { source: eve })).toBe(1);
  });
});

describe('a dead IDS', () => {
  it('an output unwritten for longer than max_silence is silent, a missing one unavailable, in serve and in check', async () => {
    const dir = tempDir();
    const eve = join(dir, 'eve.json');
    const alerts = join(dir, 'alerts.json');
    writeFileSync(eve, eveLines[0] + '\n');
    const args = ids(dir, `    - {type: suricata, path: ${eve}, max_silence: 10m}\n    - {type: wazuh, path: ${alerts}}\n`);
    const exporter = await startExporter(args);
    let samples = await scrape(exporter);
    expect(sampleValue(samples, 'hostguard_findings', { collector: 'ids', kind: 'source_silent' })).toBe(0);
    expect(sampleValue(samples, 'hostguard_findings', { collector: 'ids', kind: 'source_unavailable' })).toBe(1);
    expect(sampleValue(samples, 'hostguard_ids_source_healthy', { source: alerts, tool: 'wazuh' })).toBe(0);
    expect(sampleValue(samples, 'hostguard_ids_source_last_write_timestamp_seconds', { source: alerts, tool: 'wazuh' })).toBe(0);
    // Suricata stopped writing 11 minutes ago.
    const then = Date.now() / 1000 - 11 * 60;
    utimesSync(eve, then, then);
    samples = await scrape(exporter);
    expect(sampleValue(samples, 'hostguard_findings', { collector: 'ids', kind: 'source_silent' })).toBe(1);
    expect(sampleValue(samples, 'hostguard_ids_source_last_write_timestamp_seconds', { source: eve, tool: 'suricata' })).toBeCloseTo(
      then,
      0,
    );
    expect(sampleValue(samples, 'hostguard_ids_source_max_silence_seconds', { source: eve, tool: 'suricata' })).toBe(600);

    const check = runCli(['check', '--format', 'json', ...args]);
    expect(check.code, check.stderr).toBe(1);
    const kinds = (JSON.parse(check.stdout) as { findings: { kind: string; subject: { source: string } }[] }).findings.map(
      (f) => `${f.kind} ${f.subject.source}`,
    );
    expect(kinds.sort()).toEqual([`source_silent ${eve}`, `source_unavailable ${alerts}`]);

    // Writing again, and the file appearing, end both findings.
    appendFileSync(eve, eveLines[1] + '\n');
    writeFileSync(alerts, '');
    samples = await scrape(exporter);
    expect(sum(samples, 'hostguard_findings', { collector: 'ids' })).toBe(0);
  });

  it('a quiet IDS has no findings; an opt-in top-N names the signatures, and only then', async () => {
    const dir = tempDir();
    const eve = join(dir, 'eve.json');
    writeFileSync(eve, '');
    const exporter = await startExporter(ids(dir, `    - {type: suricata, path: ${eve}}\n`, '  top_signatures: 3\n'));
    appendFileSync(eve, eveLines.filter((l) => !l.includes('"event_type":"alert"')).join('\n') + '\n');
    let samples = await caughtUp(exporter, eve, 6);
    expect(sum(samples, 'hostguard_findings', { collector: 'ids' })).toBe(0);
    expect(samples.filter((s) => s.name === 'hostguard_ids_top_signature_alerts')).toEqual([]);
    appendFileSync(eve, [eveLines[6], eveLines[6], eveLines[7]].join('\n') + '\n');
    samples = await caughtUp(exporter, eve, 9);
    expect(
      samples
        .filter((s) => s.name === 'hostguard_ids_top_signature_alerts')
        .map((s) => [s.labels.signature_id, s.labels.signature, s.value]),
    ).toEqual([
      ['1:2027865', 'ET EXPLOIT Apache Struts RCE Attempt (CVE-2017-5638)', 2],
      ['1:2001219', 'ET SCAN Potential SSH Scan', 1],
    ]);
    expect(sampleValue(samples, 'hostguard_findings', { collector: 'ids', kind: 'recent_alerts' })).toBe(2);
    expect(existsSync(join(dir, 'state', 'ids', 'last-alerts.json'))).toBe(true);
    unlinkSync(eve);
  });
});

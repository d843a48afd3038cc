import { appendFileSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/monitoring-stack.js';
import { spawnForFile, waitForOutput } from '../helpers/processes.js';
import { startStack, testHost, type Stack } from '../e2e/stack.js';

interface Target {
  expr: string;
  expectData?: boolean;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
}

const dashboards = readdirSync(join(repoRoot, 'grafana', 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({
    file: f,
    json: JSON.parse(readFileSync(join(repoRoot, 'grafana', 'dashboards', f), 'utf8')) as {
      panels: Panel[];
      templating: { list: Array<{ name: string; definition?: string }> };
    },
  }));

/**
 * Every dashboard query runs against a real Prometheus that scrapes a running exporter on a host
 * with planted findings (IDS alerts and a weakened Lynis report among them) and evaluates rules/: no query may error, and the panels marked
 * `expectData` must return at least one series.
 */
describe('dashboard queries on a real Prometheus', () => {
  let stack: Stack;
  let instance: string;

  beforeAll(async () => {
    const work = tempDir('hostguard-dash-');
    const eve = join(work, 'eve.json');
    writeFileSync(eve, '');
    const lynisReport = join(work, 'lynis-report.dat');
    const recordedReport = readFileSync(join(repoRoot, 'test', 'fixtures', 'audit', 'lynis-report.dat'), 'utf8');
    writeFileSync(lynisReport, recordedReport);
    const host = testHost([
      'ids:',
      '  sources:',
      `    - {type: suricata, path: ${eve}}`,
      '  top_signatures: 5',
      'audit:',
      `  lynis_report: ${lynisReport}`,
      '  max_report_age: 3650d',
    ]);
    const { authLog } = host;
    stack = await startStack(host.exporterArgs(['processes', 'network', 'integrity', 'auth', 'ids', 'audit']));
    instance = `127.0.0.1:${stack.exporterPort}`;
    // Plant a finding for each collector: a binary run from /tmp, a listener, a changed file, failed logins.
    writeFileSync(host.watchedFile, 'listen_port=8080\nadmin=mallory\n');
    const copy = join(tempDir('hostguard-dash-drop-'), 'sleep');
    copyFileSync('/usr/bin/sleep', copy);
    spawnForFile(copy, ['600']);
    const port = await freePort();
    const listener = spawnForFile(process.execPath, [
      '-e',
      `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`,
    ]);
    await waitForOutput(listener, /up/);
    const stamp =
      new Date().toUTCString().slice(8, 11) +
      new Date().toISOString().slice(8, 10).replace(/^0/, ' ').padStart(3, ' ') +
      ' ' +
      new Date().toISOString().slice(11, 19);
    appendFileSync(
      authLog,
      Array.from(
        { length: 20 },
        (_, i) => `${stamp} web-1 sshd[${5000 + i}]: Failed password for root from 198.51.100.${i} port 4${i}000 ssh2\n`,
      ).join(''),
    );
    // IDS alerts, and a Lynis report weaker than the one the baseline learned at start.
    appendFileSync(eve, readFileSync(join(repoRoot, 'test', 'fixtures', 'ids', 'suricata-eve.json')));
    writeFileSync(
      lynisReport,
      recordedReport
        .replace('hardening_index=60', 'hardening_index=55')
        .replace('report_datetime_end=', 'warning[]=SSH-7408|PermitRootLogin is set to yes|-|-|\nreport_datetime_end='),
    );
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  // As Grafana interpolates: a regex match gets the value regex-escaped, an equality match gets it as is.
  const substitute = (expr: string) =>
    expr
      .replaceAll('=~"$instance"', `=~"${instance.replaceAll('.', '\\\\.')}"`)
      .replaceAll('$instance', instance)
      .replaceAll('$job', 'hostguard')
      .replaceAll('$__rate_interval', '1m');

  it('the job and instance variables find this exporter', async () => {
    const jobs = async () => (await stack.prometheus.query('group by (job) (hostguard_build_info)')).map((s) => s.metric.job ?? '');
    await eventually(async () => (await jobs()).includes('hostguard'), {
      intervalMs: 500,
      timeoutMs: 50_000,
      what: 'job="hostguard" in Prometheus',
    });
    const instances = (await stack.prometheus.query('group by (instance) (hostguard_build_info{job="hostguard"})')).map(
      (s) => s.metric.instance,
    );
    expect(instances).toContain(instance);
  }, 60_000);

  for (const { file, json } of dashboards) {
    it(`${file}: every query runs, and every panel that should have data has it`, async () => {
      const targets = json.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
      expect(targets.length).toBeGreaterThan(5);
      const deadline = Date.now() + 120_000;
      const empty = new Set<string>();
      for (const target of targets) {
        const expr = substitute(target.expr);
        const first = await stack.prometheus.query(expr); // throws on a query error
        if (!target.expectData || first.length > 0) continue;
        const hasData = await eventually(async () => (await stack.prometheus.query(expr)).length > 0, {
          intervalMs: 1000,
          timeoutMs: Math.max(0, deadline - Date.now()),
        }).catch(() => false);
        if (!hasData) empty.add(`${target.panel}: ${target.expr}`);
      }
      expect([...empty]).toEqual([]);
    }, 180_000);
  }
});

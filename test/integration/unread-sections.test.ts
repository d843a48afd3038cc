import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { spawnOwned } from '../helpers/processes.js';

/** Lines of the exporter's log saying a section is not read, as they stand now. */
function unreadLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.includes('msg="policy section not read"'))
    .map((line) => line.replace(/^time=\S+ /, ''));
}

describe('a policy section whose collector is off', () => {
  it('is named in the log at start and again on every reload, with the flag that turned its collector off', async () => {
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'outbound:\n  allow: []\nids:\n  sources:\n    - type: suricata\n      path: /nonexistent/eve.json\n');
    let output = '';
    const record = (command: string, args: readonly string[]): ChildProcess => {
      const child = spawnOwned(command, args);
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      return child;
    };
    const exporter = await startExporter(
      [
        '--state.dir',
        join(dir, 'state'),
        '--config.file',
        policy,
        '--collector.disable-defaults',
        '--collector.processes',
        '--collector.ids',
        '--no-collector.network',
      ],
      { spawn: record },
    );
    expect(unreadLines(output)).toEqual([
      'level=warn msg="policy section not read" section=outbound reason="collector network is disabled (--no-collector.network)"',
    ]);
    expect(output).not.toContain('section=ids');

    writeFileSync(policy, 'outbound:\n  allow: []\naudit:\n  lynis_report: /nonexistent/lynis-report.dat\n');
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    const after = await eventually(() => unreadLines(output).length >= 3 && unreadLines(output).slice(1), { what: "the reload's lines" });
    expect(after).toEqual([
      'level=warn msg="policy section not read" section=outbound reason="collector network is disabled (--no-collector.network)"',
      'level=warn msg="policy section not read" section=audit reason="collector audit is not enabled (--collector.disable-defaults without --collector.audit)"',
    ]);
  });

  it('is not reported for ids and audit without flags: they run by default, and without their sections do nothing', async () => {
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'processes: {}\n');
    const fixture = new URL('../fixtures/processes/', import.meta.url).pathname;
    let output = '';
    const record = (command: string, args: readonly string[]): ChildProcess => {
      const child = spawnOwned(command, args);
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      return child;
    };
    const exporter = await startExporter(
      [
        '--state.dir',
        join(dir, 'state'),
        '--config.file',
        policy,
        '--path.procfs',
        join(fixture, 'proc'),
        '--path.rootfs',
        join(fixture, 'rootfs'),
      ],
      { spawn: record },
    );
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(unreadLines(output)).toEqual([]);
    for (const collector of ['ids', 'audit']) {
      expect(metrics).toContain(`hostguard_scrape_collector_success{collector="${collector}"} 1`);
      // Only the framework's series: no sample of the collector's own metrics.
      expect(metrics.split('\n').filter((l) => l.startsWith(`hostguard_${collector}_`))).toEqual([]);
      expect(metrics.split('\n').filter((l) => l.startsWith(`hostguard_findings{collector="${collector}"`) && !l.endsWith(' 0'))).toEqual(
        [],
      );
    }
  });

  it('lets `check` and `baseline init` run ids and audit without their sections: no finding, no error, no warning', () => {
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, '# no section at all\n');
    const args = [
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.ids',
      '--collector.audit',
    ];
    const check = runCli(['check', '--format', 'json', ...args]);
    // Only the reminder that there is no baseline yet.
    expect(
      check.stderr
        .trim()
        .split('\n')
        .map((l) => l.replace(/^time=\S+ /, '')),
    ).toEqual([expect.stringMatching(/^level=warn msg="no baseline yet/)]);
    expect(JSON.parse(check.stdout)).toEqual({ findings: [] });
    expect(check.code).toBe(0);
    const init = runCli(['baseline', 'init', ...args]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).not.toMatch(/level=(warn|error)/);
  });
});

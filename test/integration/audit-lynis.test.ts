import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLynisReport } from '../../src/audit/lynis-report.js';
import { repoRoot, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runsOf(exporter: RunningExporter, result: string): Promise<number> {
  return sampleValue(await (await fetch(`${exporter.url}/metrics`)).text(), 'hostguard_audit_lynis_runs_total', { result }) ?? 0;
}

/** Processes whose command line mentions `needle` (a Lynis run: its shell and the subshells it forks). */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) found.push(Number(pid));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function setup(run: string): { report: string; args: string[] } {
  const dir = tempDir('hostguard-lynis-');
  const report = join(dir, 'lynis-report.dat');
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, `audit:\n  lynis_report: ${report}\n  run:\n${run}`);
  return { report, args: ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.audit'] };
}

describe('running Lynis from the exporter', () => {
  it('runs a real `lynis audit system --cronjob` on its schedule, exports its report, and stops a run in progress on shutdown', async () => {
    requireTool('lynis', 'lynis');
    // A PID file left by a killed run makes every cron-mode run quit at once.
    expect(existsSync('/var/run/lynis.pid'), 'a stale /var/run/lynis.pid blocks Lynis: remove it').toBe(false);
    const profile = join(repoRoot, 'test', 'fixtures', 'audit', 'ci.prf');
    // Every second: the first run starts at once, and the next one is running when the exporter stops.
    const logs = tempDir('hostguard-lynis-log-');
    const { report, args } = setup(`    schedule: "* * * * * *"\n    profile: ${profile}\n    log_file: ${join(logs, 'lynis.log')}\n`);
    const exporter = await startExporter(args);
    const deadline = Date.now() + 170_000;
    while ((await runsOf(exporter, 'success')) === 0 && (await runsOf(exporter, 'failed')) === 0 && Date.now() < deadline) await sleep(1000);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(metrics, 'hostguard_audit_lynis_runs_total', { result: 'success' })).toBe(1);
    const written = parseLynisReport(readFileSync(report, 'utf8'));
    expect(written.status).toBe('complete');
    if (written.status !== 'complete') return;
    expect(sampleValue(metrics, 'hostguard_audit_hardening_index', { report })).toBe(written.report.hardeningIndex);
    expect(sampleValue(metrics, 'hostguard_audit_warnings', { report })).toBe(written.report.warnings.length);
    expect(sampleValue(metrics, 'hostguard_audit_suggestions', { report })).toBe(written.report.suggestions);
    expect(sampleValue(metrics, 'hostguard_audit_report_timestamp_seconds', { report })).toBe(written.report.endedAt! / 1000);
    expect(sampleValue(metrics, 'hostguard_audit_lynis_last_run_duration_seconds')).toBeGreaterThan(1);
    // The second run is under way, writing its temporary report; a clean stop ends it and its children.
    await sleep(2000);
    const running = join(dirname(report), '.lynis-report.dat.hostguard-run');
    expect(processesMentioning(running).length).toBeGreaterThan(0);
    await stopProcess(exporter.child, 'SIGTERM', 15_000);
    expect(exporter.child.exitCode).toBe(0);
    expect(processesMentioning(running)).toEqual([]);
    expect(existsSync('/var/run/lynis.pid'), 'Lynis removes its PID file when stopped with SIGTERM').toBe(false);
    expect(readdirSync(join(report, '..')).filter((n) => n.includes('hostguard-run'))).toEqual([]);
  }, 200_000);

  it('counts runs as not_installed when the lynis program is not there', async () => {
    const { args } = setup('    schedule: "* * * * * *"\n    lynis: /nonexistent/lynis\n');
    const exporter = await startExporter(args);
    let runs = 0;
    for (let i = 0; i < 50 && runs === 0; i++, await sleep(100)) runs = await runsOf(exporter, 'not_installed');
    expect(runs).toBeGreaterThan(0);
    expect(await runsOf(exporter, 'success')).toBe(0);
  });
});

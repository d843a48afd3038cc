import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLynisReport } from '../../src/audit/lynis-report.js';
import { repoRoot, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import { spawnOwned, stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

/**
 * Lynis run by the exporter, for real. Serial: Lynis keeps one PID file for the whole host
 * (/var/run/lynis.pid as root), which these tests plant and watch. A profile and three quick test
 * groups keep a run to seconds; what is proved is what the exporter does around Lynis.
 */
const pidFile = '/var/run/lynis.pid';
const fixtures = join(repoRoot, 'test', 'fixtures', 'audit');
const quickGroups = ['time', 'banners', 'shells'];

function setup(): { dir: string; report: string; args: string[] } {
  const dir = tempDir('hostguard-lynis-');
  const report = join(dir, 'lynis-report.dat');
  const policy = join(dir, 'policy.yml');
  // Every second: the first run starts at once, and another is under way whenever one ends.
  writeFileSync(
    policy,
    `audit:\n  lynis_report: ${report}\n  run:\n    schedule: "* * * * * *"\n    profile: ${join(fixtures, 'ci.prf')}\n    test_groups: [${quickGroups.join(', ')}]\n    log_file: ${join(dir, 'lynis.log')}\n`,
  );
  return {
    dir,
    report,
    args: ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.audit'],
  };
}

async function metricsOf(exporter: RunningExporter): Promise<string> {
  return (await fetch(`${exporter.url}/metrics`)).text();
}

const runs = (metrics: string, result: string): number => sampleValue(metrics, 'hostguard_audit_lynis_runs_total', { result }) ?? 0;

/** The exporter's log from now on; `closed` resolves once the process has exited and its output is all read. */
function logOf(exporter: RunningExporter): { text: () => string; closed: Promise<unknown> } {
  let text = '';
  exporter.child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text, closed: once(exporter.child, 'close') };
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

/** A child of `parent` that has exited and was never reaped: what a killed Lynis under a careless parent leaves. */
function zombieChildOf(parent: number): number | undefined {
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' && Number(ppid) === parent) return Number(name);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

const pidFileNames = (pid: number): boolean => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(pid);

describe('running Lynis from the exporter', () => {
  it('runs a real `lynis audit system --cronjob` on its schedule, exports its report, and stops a run in progress on shutdown', async () => {
    requireTool('lynis', 'lynis');
    expect(existsSync(pidFile), `${pidFile} exists: another Lynis is running on this host`).toBe(false);
    const { report, args } = setup();
    const exporter = await startExporter(args);
    const log = logOf(exporter);
    const first = await eventually(
      async () => {
        const metrics = await metricsOf(exporter);
        return runs(metrics, 'success') + runs(metrics, 'failed') + runs(metrics, 'timeout') > 0 && metrics;
      },
      { timeoutMs: 120_000, what: 'a first scheduled Lynis run' },
    );
    expect([runs(first, 'success'), runs(first, 'failed'), runs(first, 'timeout'), runs(first, 'busy')]).toEqual([1, 0, 0, 0]);

    // The report and the metrics, with no run finishing in between (they follow each other).
    const { text, metrics } = await eventually(async () => {
      const before = readFileSync(report, 'utf8');
      const exposed = await metricsOf(exporter);
      return readFileSync(report, 'utf8') === before && { text: before, metrics: exposed };
    });
    expect(text).toContain(`test_group=${quickGroups.join(' ')}\n`);
    const written = parseLynisReport(text);
    expect(written.status).toBe('complete');
    if (written.status !== 'complete') return;
    expect(sampleValue(metrics, 'hostguard_audit_hardening_index', { report })).toBe(written.report.hardeningIndex);
    expect(sampleValue(metrics, 'hostguard_audit_warnings', { report })).toBe(written.report.warnings.length);
    expect(sampleValue(metrics, 'hostguard_audit_suggestions', { report })).toBe(written.report.suggestions);
    expect(sampleValue(metrics, 'hostguard_audit_report_timestamp_seconds', { report })).toBe(written.report.endedAt! / 1000);
    expect(sampleValue(metrics, 'hostguard_audit_lynis_last_run_duration_seconds')).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'hostguard_audit_lynis_stale_pidfile_removed_total')).toBe(0);

    // A later run is under way, writing its temporary report; a clean stop ends it and its children.
    const running = join(dirname(report), '.lynis-report.dat.hostguard-run');
    await eventually(() => processesMentioning(running).length > 0, { timeoutMs: 60_000, what: 'a second Lynis run in progress' });
    await stopProcess(exporter.child, 'SIGTERM', 60_000);
    await log.closed;
    expect(exporter.child.exitCode).toBe(0);
    expect(log.text()).toContain('msg="lynis run stopped at shutdown"');
    expect(processesMentioning(running)).toEqual([]);
    expect(existsSync(pidFile), 'Lynis removes its PID file when stopped with SIGTERM').toBe(false);
    expect(readdirSync(dirname(report)).filter((n) => n.includes('hostguard-run'))).toEqual([]);
  }, 240_000);

  it('removes a PID file whose run is gone (here a zombie), says so with its PID, counts it, and runs', async () => {
    requireTool('lynis', 'lynis');
    expect(existsSync(pidFile), `${pidFile} exists: another Lynis is running on this host`).toBe(false);
    // A child that exits and is never reaped: `sleep` does not wait for children it inherits.
    const parent = spawnOwned('sh', ['-c', 'true & exec sleep 300']);
    const zombie = await eventually(() => zombieChildOf(parent.pid!), { what: 'a zombie child' });
    writeFileSync(pidFile, `${zombie}\n`);
    try {
      const { args } = setup();
      const exporter = await startExporter(args);
      const log = logOf(exporter);
      const metrics = await eventually(
        async () => {
          const exposed = await metricsOf(exporter);
          return runs(exposed, 'success') + runs(exposed, 'failed') > 0 && exposed;
        },
        { timeoutMs: 120_000, what: 'a Lynis run' },
      );
      expect([runs(metrics, 'success'), runs(metrics, 'failed'), runs(metrics, 'busy')]).toEqual([1, 0, 0]);
      expect(sampleValue(metrics, 'hostguard_audit_lynis_stale_pidfile_removed_total')).toBe(1);
      expect(log.text()).toContain(
        `msg="removed a stale Lynis PID file left by a run that is gone" collector=audit pid_file=${pidFile} pid=${zombie} reason="the process is a zombie: it has exited"`,
      );
      await stopProcess(exporter.child, 'SIGTERM', 60_000);
      expect(exporter.child.exitCode).toBe(0);
    } finally {
      if (pidFileNames(zombie)) rmSync(pidFile);
    }
  }, 240_000);

  it('leaves a Lynis it did not start alone: the run is skipped and counted as busy, the PID file kept', async () => {
    requireTool('lynis', 'lynis');
    expect(existsSync(pidFile), `${pidFile} exists: another Lynis is running on this host`).toBe(false);
    const { dir, args } = setup();
    // An operator's run, waiting for [ENTER] after its first test group: live, and holding the PID file.
    const other = spawnOwned(
      'lynis',
      [
        'audit',
        'system',
        '--profile',
        join(fixtures, 'waits-for-enter.prf'),
        '--tests-from-group',
        'time',
        '--report-file',
        join(dir, 'other.dat'),
        '--logfile',
        join(dir, 'other.log'),
      ],
      { stdio: ['pipe', 'ignore', 'ignore'], cwd: dir, detached: true },
    );
    const pid = other.pid!;
    try {
      await eventually(() => pidFileNames(pid), { timeoutMs: 60_000, what: `${pidFile} naming the operator's Lynis (${pid})` });
      const exporter = await startExporter(args);
      const log = logOf(exporter);
      const metrics = await eventually(
        async () => {
          const exposed = await metricsOf(exporter);
          return runs(exposed, 'busy') > 0 && exposed;
        },
        { timeoutMs: 60_000, what: 'a run counted as busy' },
      );
      expect([runs(metrics, 'success'), runs(metrics, 'failed')]).toEqual([0, 0]);
      expect(sampleValue(metrics, 'hostguard_audit_lynis_stale_pidfile_removed_total')).toBe(0);
      expect(log.text()).toContain(
        `msg="another Lynis run is in progress (not started by the exporter); this run is skipped" collector=audit pid=${pid} pid_file=${pidFile}`,
      );
      expect(pidFileNames(pid)).toBe(true);
      await stopProcess(exporter.child, 'SIGTERM', 60_000);
      expect(exporter.child.exitCode).toBe(0);
      expect(pidFileNames(pid), "the operator's run still holds its PID file").toBe(true);
    } finally {
      // SIGTERM to its process group: Lynis' trap removes its PID file.
      const exited = other.exitCode === null && other.signalCode === null ? once(other, 'exit') : Promise.resolve();
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // gone
      }
      await exited;
    }
    await eventually(() => !existsSync(pidFile), { what: `${pidFile} removed by the stopped Lynis` });
  }, 240_000);
});

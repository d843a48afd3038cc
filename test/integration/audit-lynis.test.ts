import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';

// Runs of the real Lynis use the host's one PID file: they are in test/serial/audit-lynis.test.ts.

async function runsOf(exporter: RunningExporter, result: string): Promise<number> {
  return sampleValue(await (await fetch(`${exporter.url}/metrics`)).text(), 'hostguard_audit_lynis_runs_total', { result }) ?? 0;
}

describe('running Lynis from the exporter', () => {
  it('counts runs as not_installed when the lynis program is not there', async () => {
    const dir = tempDir('hostguard-lynis-');
    const policy = join(dir, 'policy.yml');
    writeFileSync(
      policy,
      `audit:\n  lynis_report: ${join(dir, 'lynis-report.dat')}\n  run:\n    schedule: "* * * * * *"\n    lynis: /nonexistent/lynis\n`,
    );
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.audit',
    ]);
    await eventually(async () => (await runsOf(exporter, 'not_installed')) > 0, { what: 'a run counted as not_installed' });
    expect(await runsOf(exporter, 'success')).toBe(0);
    expect(await runsOf(exporter, 'busy')).toBe(0);
  });
});

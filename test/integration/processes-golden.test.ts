import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';

/**
 * node_exporter's end-to-end test, for this collector: the built exporter on a fixture procfs and
 * root (test/fixtures/processes, described in its README), its /metrics and /api/findings compared
 * with golden files. `UPDATE_GOLDEN=1 npx vitest run test/integration/processes-golden.test.ts`
 * rewrites them; review the diff.
 */
const fixture = new URL('../fixtures/processes/', import.meta.url).pathname;
const update = process.env['UPDATE_GOLDEN'] === '1';

/** This collector's lines, with what depends on the clock or on how many scrapes ran replaced. */
function collectorLines(exposition: string): string {
  return (
    exposition
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?hostguard_process/.test(line) || /^hostguard_findings\{collector="processes"/.test(line))
      .map((line) =>
        line
          .replace(/^(hostguard_process_hidden_sweep_(last_timestamp_seconds|duration_seconds)) \S+$/, '$1 <varies>')
          .replace(/^(hostguard_process_read_races_total) \S+$/, '$1 <counts scrapes>'),
      )
      .join('\n') + '\n'
  );
}

function golden(name: string, actual: string): void {
  const file = join(fixture, name);
  if (update) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('the processes collector on a fixture procfs', () => {
  it('exposes the metrics and findings in the golden files', async () => {
    const exporter = await startExporter([
      '--state.dir',
      tempDir(),
      '--path.procfs',
      join(fixture, 'proc'),
      '--path.rootfs',
      join(fixture, 'rootfs'),
      '--collector.disable-defaults',
      '--collector.processes',
      '--findings.show-details',
    ]);
    const metrics = await eventually(
      async () => {
        const text = await (await fetch(`${exporter.url}/metrics`)).text();
        return (sampleValue(text, 'hostguard_process_hidden_sweep_last_timestamp_seconds') ?? 0) > 0 && text;
      },
      { what: 'the hidden-process sweep at start' },
    );
    expect(sampleValue(metrics, 'hostguard_process_read_races_total')).toBeGreaterThan(0);
    golden('metrics.golden', collectorLines(metrics));
    const findings = await (await fetch(`${exporter.url}/api/findings`)).text();
    golden('findings.golden.json', JSON.stringify(JSON.parse(findings), null, 2) + '\n');
  });
});

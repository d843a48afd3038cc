import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';

/**
 * This machine, watched with the embedded default policy (every persistence location, the
 * privileged-file search of the whole host, the kernel): quiet after `baseline init`, in `check`
 * and in `serve` with the real-time watch on.
 */
describe('a quiet host with the default persistence coverage', () => {
  it('has zero integrity and kernel findings after `baseline init`, in check and in serve', { timeout: 600_000 }, async () => {
    const args = ['--collector.disable-defaults', '--collector.integrity', '--collector.kernel', '--state.dir', tempDir()];
    const init = runCli([...args, 'baseline', 'init'], { timeoutMs: 300_000 });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/integrity \d+, packages \d+, kernel \d+/);
    const check = runCli([...args, 'check', '--format', 'json'], { timeoutMs: 300_000 });
    expect(JSON.parse(check.stdout)).toEqual({ findings: [] });
    expect(check.code).toBe(0);

    const exporter = await startExporter(args);
    const deadline = Date.now() + 300_000;
    let samples = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
    // Until the scan at start and a privileged-file search have finished (serve takes the one `baseline init` recorded).
    while (
      (sampleValue(samples, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) === 0 ||
      (sampleValue(samples, 'hostguard_integrity_privileged_search_last_end_timestamp_seconds') ?? 0) === 0
    ) {
      if (Date.now() > deadline) throw new Error('no scan or search finished in serve');
      await new Promise((r) => setTimeout(r, 250));
      samples = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
    }
    const findings = samples.filter(
      (s) => s.name === 'hostguard_findings' && ['integrity', 'kernel'].includes(s.labels['collector']!) && s.value > 0,
    );
    expect(findings).toEqual([]);
    expect(sampleValue(samples, 'hostguard_integrity_watch_enabled')).toBe(1);
    expect(sampleValue(samples, 'hostguard_integrity_watch_directories')).toBeGreaterThan(10);
    expect(samples.filter((s) => s.name === 'hostguard_integrity_watch_unwatched_directories' && s.value > 0)).toEqual([]);
  });
});

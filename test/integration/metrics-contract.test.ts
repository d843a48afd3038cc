import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectorDefinitions } from '../../src/collectors/registry.js';
import { Exporter } from '../../src/exporter.js';
import { silentLogger } from '../../src/log/logger.js';
import { metricCatalog, standardMetricPrefixes } from '../../src/metrics/catalog.js';
import { renderMetricsDoc } from '../../src/metrics/metrics-doc.js';
import { defaultRuleConfig } from '../../scripts/rules/config.js';
import { renderRecordedSeries } from '../../scripts/rules/recorded-series.js';
import { ruleFiles } from '../../scripts/rules/render.js';
import { tempDir } from '../helpers/cli.js';

describe('the metrics contract (docs/metrics.md)', () => {
  it('is generated from the catalog and up to date (run `npm run docs:metrics`)', () => {
    expect(readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8')).toBe(
      renderMetricsDoc() + renderRecordedSeries(ruleFiles(defaultRuleConfig)),
    );
  });

  // Learning with every collector searches the whole host for privileged files: seconds, more on a busy machine.
  it('documents every metric the exporter exposes with all collectors enabled, and nothing it does not', { timeout: 180_000 }, async () => {
    const exporter = new Exporter({
      paths: { procfs: '/proc', rootfs: '/', stateDir: tempDir() },
      policyFile: undefined,
      collectors: collectorDefinitions,
      maxFindingSeries: 100,
      log: silentLogger,
      build: { version: '0.0.0', revision: 'test' },
    });
    try {
      await exporter.acceptCurrentState('operator');
      const { exposition } = await exporter.snapshot();
      const exposed = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
      const documented = new Set(metricCatalog.flatMap((g) => Object.values(g.specs).map((s) => s.name)));
      const undocumented = [...exposed].filter((n) => !documented.has(n) && !standardMetricPrefixes.some((p) => n.startsWith(p)));
      expect(undocumented).toEqual([]);
      expect([...documented].filter((n) => !exposed.has(n))).toEqual([]);
    } finally {
      await exporter.stop();
    }
  });
});

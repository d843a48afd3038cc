import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { defaultRuleConfig, runbookUrl } from '../../scripts/rules/config.js';
import { renderRules } from '../../scripts/rules/render.js';
import { metricCatalog } from '../../src/metrics/catalog.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesDir = join(repoRoot, 'rules');
const ruleFiles = readdirSync(rulesDir)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(rulesDir, f));
const testFiles = readdirSync(join(rulesDir, 'tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => join(rulesDir, 'tests', f));
const rules: Rule[] = ruleFiles.flatMap((file) =>
  (load(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules),
);
const alerts = rules.filter((r) => r.alert);

describe('alerting and recording rules', () => {
  it('pass promtool check rules', () => {
    const promtool = requireTool('promtool', 'prometheus');
    const result = spawnSync(promtool, ['check', 'rules', ...ruleFiles], { encoding: 'utf8' });
    expect(result.stderr, result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('pass promtool check rules as an operator generates them, with another runbook address and job', () => {
    const promtool = requireTool('promtool', 'prometheus');
    const dir = tempDir();
    const files = Object.entries(
      renderRules({
        ...defaultRuleConfig,
        runbookUrlBase: 'https://wiki.example.org/runbooks',
        jobSelector: 'job=~"node-guard|hostguard"',
      }),
    ).map(([file, yaml]) => {
      writeFileSync(join(dir, file), yaml);
      return join(dir, file);
    });
    const result = spawnSync(promtool, ['check', 'rules', ...files], { encoding: 'utf8' });
    expect(result.stderr, result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  // One promtool run per file, not blocking the test's event loop: the files' days of simulated
  // series take about 12 s of CPU in all (8 s for hostguard-anomaly), several times that in wall
  // time on a loaded 2-core machine. The deadline only has to catch a hang.
  it.each(testFiles.map((f) => [basename(f), f]))(
    '%s passes its promtool unit tests',
    async (_name, file) => {
      const promtool = requireTool('promtool', 'prometheus');
      const { code, output } = await new Promise<{ code: number | string | null; output: string }>((resolve) => {
        execFile(promtool, ['test', 'rules', file], { cwd: join(rulesDir, 'tests'), maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) =>
          resolve({ code: error ? (error.code ?? error.signal ?? null) : 0, output: stdout + stderr }),
        );
      });
      expect(code, output).toBe(0);
    },
    300_000,
  );

  it.each(alerts.map((a) => [a.alert!, a]))('%s has a severity, summary, description and a runbook that exists', (name, alert) => {
    expect(name).toMatch(/^HostGuard[A-Z][A-Za-z]+$/);
    expect(['critical', 'warning', 'info']).toContain(alert.labels?.severity);
    expect(alert.annotations?.summary).toBeTruthy();
    expect(alert.annotations?.description).toMatch(/\{\{ \$labels\.instance \}\}|at all/);
    expect(alert.annotations?.runbook_url).toBe(runbookUrl(defaultRuleConfig, name));
    expect(existsSync(join(repoRoot, 'docs', 'runbooks', `${name}.md`))).toBe(true);
  });

  it('every alert is fired by at least one promtool test', () => {
    const tested = new Set<string>();
    for (const file of testFiles) {
      const suite = load(readFileSync(file, 'utf8')) as {
        tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
      };
      for (const t of suite.tests) for (const a of t.alert_rule_test ?? []) if (a.exp_alerts.length > 0) tested.add(a.alertname);
    }
    expect(alerts.map((a) => a.alert!).filter((n) => !tested.has(n))).toEqual([]);
  });

  it('recording rules are named level:metric:operations', () => {
    for (const rule of rules.filter((r) => r.record)) expect(rule.record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });

  it('use only metrics the exporter documents in docs/metrics.md', () => {
    const documented = new Set(metricCatalog.flatMap((g) => Object.values(g.specs).map((s) => s.name)));
    // Recorded series (level:metric:operations) are ours, not the exporter's: leave them out.
    const withoutRecorded = (expr: string) => expr.replace(/\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/g, '');
    const used = new Set(
      rules.flatMap((r) =>
        [...withoutRecorded(r.expr).matchAll(/\bhostguard_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    expect([...used].filter((n) => !documented.has(n))).toEqual([]);
  });
});

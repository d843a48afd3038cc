import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { defaultRuleConfig } from '../../scripts/rules/config.js';
import { renderRules } from '../../scripts/rules/render.js';
import { repoRoot } from '../helpers/cli.js';

interface Rule {
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesDir = join(repoRoot, 'rules');
const alertsOf = (yaml: string): Rule[] =>
  (load(yaml) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules).filter((r) => r.alert);

describe('alerting and recording rules', () => {
  it('are generated from scripts/rules and up to date (run `npm run rules`)', () => {
    const rendered = renderRules();
    expect(Object.keys(rendered).sort()).toEqual(
      readdirSync(rulesDir)
        .filter((f) => f.endsWith('.yml'))
        .sort(),
    );
    for (const [file, yaml] of Object.entries(rendered)) expect(readFileSync(join(rulesDir, file), 'utf8'), file).toBe(yaml);
  });

  it("name the runbook address and the job selector in one place each: an operator's copy changes every one", () => {
    const config = { ...defaultRuleConfig, runbookUrlBase: 'https://wiki.example.org/security/runbooks/', jobSelector: 'job="node-guard"' };
    const alerts = Object.values(renderRules(config)).flatMap(alertsOf);
    expect(alerts.length).toBeGreaterThan(40);
    for (const alert of alerts) expect(alert.annotations?.runbook_url).toBe(`https://wiki.example.org/security/runbooks/${alert.alert}.md`);
    const text = Object.values(renderRules(config)).join('\n');
    expect(text).not.toContain(defaultRuleConfig.runbookUrlBase);
    expect(text).not.toContain('job="hostguard"');
    const down = alerts.find((a) => a.alert === 'HostGuardExporterDown')!;
    const absent = alerts.find((a) => a.alert === 'HostGuardExporterAbsent')!;
    expect(down.expr).toBe('up{job="node-guard"} == 0');
    expect(absent.expr).toBe('absent(up{job="node-guard"})');
    expect(absent.annotations?.description).toContain('no target in job "node-guard" at all');
  });

  it('take the fleet thresholds from the configuration', () => {
    const config = { ...defaultRuleConfig, fleet: { rareHosts: 5, minReportingHosts: 40, memorySeconds: 1209600, newForSeconds: 43200 } };
    const rare = alertsOf(renderRules(config)['hostguard-fleet.yml']!).find((a) => a.alert === 'HostGuardRareExecutable')!;
    expect(rare.expr).toContain('count_hosts <= 5');
    expect(rare.expr).toContain('job:hostguard_reporting_hosts:count >= 40');
    const fresh = alertsOf(renderRules(config)['hostguard-fleet.yml']!).find((a) => a.alert === 'HostGuardExecutableNewToFleet')!;
    expect(fresh.expr).toContain('first_seen_timestamp_seconds < 43200');
    expect(fresh.expr).toContain('start_timestamp_seconds > 1209600');
    expect(fresh.annotations?.description).toContain('in the 14 days before');
  });
});

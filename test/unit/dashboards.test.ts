import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authServices } from '../../src/auth/patterns.js';
import { metricCatalog } from '../../src/metrics/catalog.js';
import { renderDashboards } from '../../scripts/dashboards/render.js';
import { repoRoot } from '../helpers/cli.js';

interface Target {
  expr: string;
}
interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { uid: string };
  targets?: Target[];
  fieldConfig?: { defaults: { unit?: string }; overrides: Array<{ properties: Array<{ id: string; value: unknown }> }> };
}
interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  templating: { list: Array<{ name: string; type: string; definition?: string; datasource?: { uid: string } }> };
  panels: Panel[];
}

const dir = join(repoRoot, 'grafana', 'dashboards');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const dashboards = files.map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard] as const);

describe('Grafana dashboards', () => {
  it('are generated from scripts/dashboards and up to date (run `npm run dashboards`)', () => {
    const rendered = renderDashboards();
    expect(Object.keys(rendered).sort()).toEqual(files.sort());
    for (const [file, json] of Object.entries(rendered)) expect(readFileSync(join(dir, file), 'utf8'), file).toBe(json);
  });

  it.each(dashboards)('%s names every auth service in the description of its failures-by-service panel', (_file, d) => {
    const panels = d.panels.filter((p) =>
      p.targets?.some((t) => /sum by \(service, reason\) \(rate\(hostguard_auth_failures_total/.test(t.expr)),
    );
    expect(panels.length).toBe(1);
    for (const service of authServices) expect(panels[0]!.description, service).toMatch(new RegExp(`[ (]${service}[,) :]`));
  });

  it.each(dashboards)('%s has a stable uid, tags, and datasource, job and instance variables', (_file, d) => {
    expect(d.uid).toMatch(/^hostguard-[a-z]+$/);
    expect(d.tags).toContain('hostguard');
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource?.type).toBe('datasource');
    expect(vars.job?.definition).toMatch(/^label_values\(hostguard_build_info, job\)$/);
    expect(vars.instance?.definition).toMatch(/^label_values\(hostguard_build_info\{job="\$job"\}, instance\)$/);
  });

  it.each(dashboards)(
    '%s: every panel uses the datasource variable, has a description and a unit, and rates over $__rate_interval',
    (_file, d) => {
      for (const panel of d.panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
        expect(panel.description, panel.title).toBeTruthy();
        expect(panel.fieldConfig?.defaults.unit, panel.title).toBeTruthy();
        for (const target of panel.targets ?? []) {
          expect(target.expr, panel.title).not.toMatch(/\[\d+[smhd]\]/);
          expect(target.expr, panel.title).toMatch(/\$instance/);
        }
      }
    },
  );

  it('the overview links each host to the host dashboard, carrying the instance', () => {
    const overview = dashboards.find(([f]) => f === 'hostguard-overview.json')![1];
    const urls = overview.panels.flatMap(
      (p) =>
        p.fieldConfig?.overrides.flatMap((o) =>
          o.properties.filter((x) => x.id === 'links').flatMap((x) => x.value as Array<{ url: string }>),
        ) ?? [],
    );
    expect(urls.length).toBeGreaterThan(0);
    for (const { url } of urls) expect(url).toMatch(/^\/d\/hostguard-host\/.*var-instance=\$\{__data\.fields\.instance\}/);
  });

  it('name only metrics the exporter documents in docs/metrics.md (or standard ones and recorded series)', () => {
    // A histogram is exposed as its _bucket, _sum and _count series.
    const documented = new Set(
      metricCatalog.flatMap((g) =>
        Object.values(g.specs).flatMap((s) => (s.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((x) => s.name + x) : [s.name])),
      ),
    );
    const exprs = dashboards.flatMap(([, d]) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)));
    const used = new Set(
      exprs.flatMap((e) => [...e.replace(/\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/g, '').matchAll(/\bhostguard_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    expect([...used].filter((n) => !documented.has(n))).toEqual([]);
    const recorded = new Set(exprs.flatMap((e) => [...e.matchAll(/\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/g)].map((m) => m[0])));
    const rules = readdirSync(join(repoRoot, 'rules'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => readFileSync(join(repoRoot, 'rules', f), 'utf8'))
      .join('\n');
    for (const name of recorded) expect(rules).toContain(`record: ${name}`);
  });
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { load } from 'js-yaml';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { declaredKinds } from '../../scripts/rules/render.js';
import { collectorDefinitions } from '../../src/collectors/registry.js';
import { repoRoot, startExporter, tempDir } from '../helpers/cli.js';

/**
 * Every finding kind is declared once (src/<domain>/kinds.ts) and shows up everywhere an operator
 * looks for it: a zero series of hostguard_findings, a row of docs/metrics.md, an alert in rules/
 * with its runbook (or a stated reason for none).
 */
const kinds = declaredKinds();
const fixture = new URL('../fixtures/processes/', import.meta.url).pathname;

function alertNames(): Set<string> {
  const dir = join(repoRoot, 'rules');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
  const groups = files.flatMap(
    (f) => (load(readFileSync(join(dir, f), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups,
  );
  return new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : []))));
}

/** The section of docs/metrics.md that lists a collector's kinds, up to the next heading. */
function kindTableOf(doc: string, collector: string): string {
  const start = doc.indexOf(`declared in \`src/${collector}/kinds.ts\``);
  if (start === -1) return '';
  const end = doc.indexOf('\n## ', start);
  return doc.slice(start, end === -1 ? undefined : end);
}

describe('finding kinds', () => {
  it('are declared for every collector, and only for registered ones', () => {
    expect(new Set(kinds.map((k) => k.collector))).toEqual(new Set(collectorDefinitions.map((d) => d.name)));
  });

  it('each appear as a zero series of hostguard_findings when all collectors run, and nothing undeclared does', async () => {
    const exporter = await startExporter([
      '--state.dir',
      tempDir(),
      '--path.procfs',
      join(fixture, 'proc'),
      '--path.rootfs',
      join(fixture, 'rootfs'),
      ...collectorDefinitions.map((d) => `--collector.${d.name}`),
    ]);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    const exposed = [...metrics.matchAll(/^hostguard_findings\{collector="([^"]+)",kind="([^"]+)"\} /gm)].map((m) => `${m[1]}/${m[2]}`);
    expect(exposed.sort()).toEqual(kinds.map((k) => `${k.collector}/${k.kind}`).sort());
  });

  it('each have a row in docs/metrics.md, under their collector', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'metrics.md'), 'utf8');
    const missing = kinds
      .filter((k) => !kindTableOf(doc, k.collector).includes(`| \`${k.kind}\` |`))
      .map((k) => `${k.collector}/${k.kind}`);
    expect(missing).toEqual([]);
  });

  it('each are covered by an alert in rules/ with a runbook, or say why no alert fires on them', () => {
    const alerts = alertNames();
    const problems: string[] = [];
    for (const k of kinds) {
      if (k.alerts.length === 0 && !k.noAlert?.trim()) problems.push(`${k.collector}/${k.kind}: no alert and no reason`);
      for (const alert of k.alerts) {
        if (!alerts.has(alert)) problems.push(`${k.collector}/${k.kind}: alert ${alert} is not in rules/`);
        if (!existsSync(join(repoRoot, 'docs', 'runbooks', `${alert}.md`)))
          problems.push(`${k.collector}/${k.kind}: docs/runbooks/${alert}.md is missing`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('are only reported through their declaration: no module outside src/findings builds a finding by hand', () => {
    const srcDir = join(repoRoot, 'src');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    })(srcDir).filter((f) => !relative(srcDir, f).startsWith('findings/'));
    const handMade: string[] = [];
    for (const file of files) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node) => {
        if (ts.isObjectLiteralExpression(node)) {
          const names = new Set(node.properties.map((p) => (p.name && ts.isIdentifier(p.name) ? p.name.text : '')));
          if (['kind', 'severity', 'subject', 'message'].every((n) => names.has(n))) {
            handMade.push(`${relative(srcDir, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(handMade).toEqual([]);
  });
});

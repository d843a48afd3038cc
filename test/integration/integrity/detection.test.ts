import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { requireTool } from '../../helpers/tools.js';
import { writeAideConfig } from './aide.js';
import { buildTree, integrityArgs, integrityPolicy, plantChanges, type PlantedChange } from './tree.js';

interface ReportedFinding {
  kind: string;
  severity: string;
  subject: Record<string, string | number | boolean>;
  message: string;
}

function checkJson(args: readonly string[]): { code: number | null; findings: ReportedFinding[]; stderr: string } {
  const result = runCli([...args, 'check', '--format', 'json']);
  return { code: result.code, findings: (JSON.parse(result.stdout) as { findings: ReportedFinding[] }).findings, stderr: result.stderr };
}

/** The paths AIDE lists as added, removed or changed (the summary sections of its report). */
function aideReportedPaths(report: string): string[] {
  const summary = report.split('Detailed information about changes')[0] ?? '';
  return [...summary.matchAll(/^\S[^:\n]*: (\/.+)$/gm)].map((m) => m[1]!).sort();
}

describe('a tree of binaries and configuration, after `baseline init`', () => {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  const state = join(dir, 'state');
  let args: string[];
  let planted: PlantedChange[];
  let quiet: { code: number | null; findings: ReportedFinding[] };
  let after: { code: number | null; findings: ReportedFinding[]; stderr: string };
  let aideReport: string;

  beforeAll(() => {
    const aide = requireTool('aide', 'aide');
    buildTree(tree);
    args = integrityArgs(integrityPolicy([tree]), state);
    const init = runCli([...args, 'baseline', 'init']);
    expect(init.stderr).not.toMatch(/level=(warn|error)/);
    expect(init.stdout).toMatch(/baseline written to .*: integrity 11, packages \d+\n/);
    const conf = writeAideConfig(dir, tree);
    const aideInit = spawnSync(aide, ['--config', conf, '--init'], { encoding: 'utf8' });
    expect(aideInit.status, aideInit.stderr).toBe(0);
    spawnSync('mv', [join(dir, 'aide.db.new'), join(dir, 'aide.db')]);
    quiet = checkJson(args);
    planted = plantChanges(tree);
    after = checkJson(args);
    const aideCheck = spawnSync(aide, ['--config', conf, '--check'], { encoding: 'utf8' });
    aideReport = aideCheck.stdout;
  });

  it('reports nothing while nothing changed', () => {
    expect({ code: quiet.code, findings: quiet.findings }).toEqual({ code: 0, findings: [] });
  });

  it('reports every planted change with the right kind and attribute, and nothing else', () => {
    const reported = after.findings.map((f) => ({
      kind: f.kind,
      path: f.subject['path'],
      ...(f.subject['attribute'] !== undefined && { attribute: f.subject['attribute'] }),
    }));
    const byPath = (a: { path: unknown }, b: { path: unknown }) => String(a.path).localeCompare(String(b.path));
    expect(reported.sort(byPath)).toEqual([...planted].sort(byPath));
    expect(after.code).toBe(1);
  });

  it('catches a same-size edit whose mtime was put back, and says so', () => {
    const edit = after.findings.find((f) => f.kind === 'content_changed');
    expect(edit?.message).toMatch(/mtime unchanged: restored with touch -r/);
  });

  it('rates a newly set setuid bit critical', () => {
    expect(after.findings.find((f) => f.subject['attribute'] === 'setuid')?.severity).toBe('critical');
  });

  it('reports every change that AIDE reports on the same tree and changes', () => {
    const aidePaths = aideReportedPaths(aideReport);
    expect(aidePaths.length).toBeGreaterThanOrEqual(planted.length);
    const ours = new Set(after.findings.map((f) => String(f.subject['path'])));
    // AIDE also lists a directory whose entries changed (its mtime moved); that change is the
    // entry added or removed in it, which is reported by its own path.
    const entriesChanged = new Set(
      after.findings.filter((f) => f.kind === 'added' || f.kind === 'removed').map((f) => dirname(String(f.subject['path']))),
    );
    expect(aidePaths.filter((p) => !ours.has(p) && !entriesChanged.has(p))).toEqual([]);
  });
});

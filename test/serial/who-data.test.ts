import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { fimWatchPaths } from '../../scripts/audit-rules/render.js';
import { watchedDirectoryPolicy } from '../helpers/audit-log.js';
import { startAuditd, type RunningAuditd } from '../helpers/auditd.js';
import { repoRoot, runCli, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { until } from '../helpers/poll.js';
import { spawnForFile } from '../helpers/processes.js';

/**
 * Who changed a watched file, from the real kernel audit subsystem: auditd (Debian's package)
 * started by this file (test/helpers/auditd.ts, which puts back the rules, backlog and enabled
 * flag it found), a watch rule `-w DIR -p wa -k hostguard_fim` on a temporary directory, and the
 * exporter following auditd's log as processes.exec_events names it. Run it alone, under
 * `flock /work/wt/auditd.lock` on a shared machine: the audit rules are host-wide.
 */

let auditd: RunningAuditd;
let watched: string;
let exporter: RunningExporter;

beforeAll(async () => {
  const dir = tempDir('hostguard-whodata-auditd-');
  auditd = await startAuditd(dir);
  watched = join(tempDir('hostguard-whodata-watched-'), 'etc');
  mkdirSync(watched);
  writeFileSync(join(watched, 'job'), '0 3 * * * root /usr/local/bin/backup\n');
  auditd.auditctl('-w', watched, '-p', 'wa', '-k', 'hostguard_fim');
  const state = tempDir();
  const policy = join(state, 'policy.yml');
  writeFileSync(policy, watchedDirectoryPolicy(watched, auditd.log));
  const args = [
    '--state.dir',
    state,
    '--config.file',
    policy,
    '--collector.disable-defaults',
    '--collector.integrity',
    '--findings.show-details',
  ];
  const init = runCli([...args, 'baseline', 'init']);
  expect(init.code, init.stderr).toBe(0);
  // One exporter for the file's tests: stopped by PID after the file.
  exporter = await startExporter(args, { spawn: spawnForFile });
  await until(
    'the scan at start',
    async () => (await fetch(`${exporter.url}/metrics`)).text(),
    (body) => (sampleValue(body, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0,
  );
});

afterAll(async () => {
  await auditd?.stop();
});

type Found = FindingsDocument['findings'][number];

async function integrityFindings(): Promise<Found[]> {
  const document = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
  return document.findings.filter((f) => f.collector === 'integrity');
}

/** The finding of `kind` for `path` once it names a writer. */
async function namedWriter(kind: string, path: string): Promise<string> {
  const all = await until(`${kind} of ${path} naming its writer`, integrityFindings, (found) =>
    found.some((f) => f.kind === kind && f.subject['path'] === path && f.message.includes('written by')),
  );
  return all.find((f) => f.kind === kind && f.subject['path'] === path)!.message;
}

/** Debian's python3 itself, not a shim on the PATH that execs another one. */
function debianPython(): string {
  if (!existsSync('/usr/bin/python3')) throw new Error('/usr/bin/python3 is not installed: run `apt-get install python3-minimal`');
  return '/usr/bin/python3';
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// Polls use until's deadline (60 s): more than the default timeout.
describe('who changed a watched file, from the real audit subsystem', { timeout: 180_000 }, () => {
  it('a line appended by sh names sh (its executable, dash) and its pid', async () => {
    const sh = spawnSync('/bin/sh', ['-c', 'echo "* * * * * root /tmp/.x" >> job'], { cwd: watched });
    expect(sh.status).toBe(0);
    const message = await namedWriter('content_changed', join(watched, 'job'));
    expect(message).toMatch(new RegExp(`; written by ${escaped(realpathSync('/bin/sh'))} \\(pid ${sh.pid}, uid 0, auid (unset|\\d+)\\)$`));
  });

  it('a file created by python3 names python3 and its pid', async () => {
    const path = join(watched, 'update-helper');
    const python = spawnSync(debianPython(), ['-c', `open(${JSON.stringify(path)}, 'w').write('#!/bin/sh\\n')`]);
    expect(python.status, String(python.stderr)).toBe(0);
    const message = await namedWriter('added', path);
    expect(message).toMatch(
      new RegExp(`; written by ${escaped(realpathSync(debianPython()))} \\(pid ${python.pid}, uid 0, auid (unset|\\d+)\\)$`),
    );
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(body, 'hostguard_integrity_writer_records_total')).toBeGreaterThanOrEqual(2);
  });

  it('the shipped rules load: every path of the default policy whose directory exists here is watched, the others passed over', () => {
    const rules = join(repoRoot, 'deploy', 'audit', 'hostguard-fim.rules');
    // -i: auditctl goes on past the refused lines and exits 0 (auditctl throws on a non-zero exit).
    auditd.auditctl('-R', rules);
    const loaded = auditd
      .auditctl('-l')
      .split('\n')
      .filter((l) => l.includes('hostguard_fim'))
      .map((l) => /^-w (\S+) /.exec(l)?.[1]);
    const expected = fimWatchPaths().filter((p) => existsSync(dirname(p)));
    expect(loaded.filter((p) => p !== watched).sort()).toEqual([...expected].sort());
  });
});

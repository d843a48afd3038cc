import { copyFileSync, linkSync, readFileSync, readlinkSync, renameSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir, type RunningExporter } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { parseExposition, sampleValue } from '../../helpers/exposition.js';
import { spawnOwned } from '../../helpers/processes.js';
import { requireTool } from '../../helpers/tools.js';
import { buildTree, editKeepingSizeAndMtime, integrityArgs, integrityPolicy } from './tree.js';

async function metrics(exporter: RunningExporter): Promise<string> {
  return (await fetch(`${exporter.url}/metrics`)).text();
}

/** Scrape until `ready` holds for the exposition (scans run every second in these tests). */
async function scrapeUntil(exporter: RunningExporter, ready: (text: string) => boolean): Promise<string> {
  return eventually(
    async () => {
      const text = await metrics(exporter);
      return ready(text) && text;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'the expected exposition' },
  );
}

const scanned = (text: string) => (sampleValue(text, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0;

/** A watched tree holding bin/tool (a copy of sleep), learned into a baseline that checks running executables. */
function toolInBaseline(): { tool: string; args: string[] } {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  buildTree(tree);
  const tool = join(tree, 'bin/tool');
  copyFileSync('/usr/bin/sleep', tool);
  const args = integrityArgs(integrityPolicy([tree], { running: true }), join(dir, 'state'));
  expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
  return { tool, args };
}

describe('integrity in serve', () => {
  it('finds a same-size edit with the mtime put back through the fast path, on the next scheduled scan', async () => {
    const dir = tempDir();
    const tree = join(dir, 'tree');
    buildTree(tree);
    const args = integrityArgs(integrityPolicy([tree]), join(dir, 'state'));
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const exporter = await startExporter(args);
    const before = await scrapeUntil(exporter, scanned);
    expect(sampleValue(before, 'hostguard_findings', { collector: 'integrity', kind: 'content_changed' })).toBe(0);
    // The start scan trusted the baseline's hashes: nothing was read.
    expect(sampleValue(before, 'hostguard_integrity_last_scan_hashed_files')).toBe(0);

    const file = join(tree, 'etc/cron.d/backup');
    editKeepingSizeAndMtime(file);
    const after = await scrapeUntil(exporter, (t) => sampleValue(t, 'hostguard_integrity_mismatch', { path: file }) !== undefined);
    expect(sampleValue(after, 'hostguard_integrity_mismatch', { path: file, kind: 'content_changed', attribute: 'content' })).toBe(1);
    expect(sampleValue(after, 'hostguard_integrity_scans_total', { mode: 'full' })).toBe(0);
    expect(sampleValue(after, 'hostguard_findings', { collector: 'integrity', kind: 'content_changed' })).toBe(1);

    const promtool = requireTool('promtool', 'prometheus');
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: after, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
  });

  it('learns the watched files on first start without hashing them twice', async () => {
    const dir = tempDir();
    const tree = join(dir, 'tree');
    buildTree(tree);
    const state = join(dir, 'state');
    const exporter = await startExporter(integrityArgs(integrityPolicy([tree]), state));
    const baseline = JSON.parse(readFileSync(join(state, 'baseline.json'), 'utf8')) as {
      sections: { integrity: Record<string, { sha256?: string }> };
    };
    expect(baseline.sections.integrity[join(tree, 'bin/true')]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const text = await scrapeUntil(exporter, (t) => (sampleValue(t, 'hostguard_integrity_scans_total', { mode: 'fast' }) ?? 0) >= 1);
    expect(sampleValue(text, 'hostguard_integrity_scans_total', { mode: 'full' })).toBe(1);
    expect(sampleValue(text, 'hostguard_integrity_last_scan_hashed_files')).toBe(0);
    expect(sampleValue(text, 'hostguard_baseline_entries', { section: 'integrity' })).toBe(11);
  });

  it('finds a process running a trojan that was swapped back for the original on disk', async () => {
    const { tool, args } = toolInBaseline();

    // The intruder keeps the original aside, puts a modified copy in its place, starts it, and puts the original back.
    linkSync(tool, `${tool}.orig`);
    copyFileSync('/usr/bin/sleep', `${tool}.new`);
    appendFileSync(`${tool}.new`, 'trojan');
    renameSync(`${tool}.new`, tool);
    const trojan = spawnOwned(tool, ['300']);
    await eventually(() => readlinkSync(`/proc/${trojan.pid}/exe`).startsWith(tool), { intervalMs: 10, what: 'the trojan running' });
    renameSync(`${tool}.orig`, tool);
    expect(readFileSync(`/proc/${trojan.pid}/exe`).subarray(-6).toString()).toBe('trojan');

    const check = runCli([...args, 'check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ kind: string; subject: Record<string, unknown> }> }).findings;
    expect(findings).toContainEqual(
      expect.objectContaining({ kind: 'running_binary_mismatch', subject: { path: tool, expected: 'baseline', deleted: true } }),
    );
    // On disk the original is back, with its own inode: nothing to report there.
    expect(findings.filter((f) => f.subject['path'] === tool && f.kind !== 'running_binary_mismatch')).toEqual([]);

    const exporter = await startExporter(args);
    const text = await scrapeUntil(exporter, scanned);
    expect(sampleValue(text, 'hostguard_integrity_mismatch', { path: tool, kind: 'running_binary_mismatch', attribute: 'content' })).toBe(
      1,
    );
    expect(sampleValue(text, 'hostguard_integrity_running_executables', { result: 'mismatch' })).toBe(1);
  });

  it("finds the trojan also when it runs in a mount namespace of its own with the host's root (a sandboxed unit, `unshare -m`)", async () => {
    const unshare = requireTool('unshare', 'util-linux');
    const { tool, args } = toolInBaseline();

    copyFileSync('/usr/bin/sleep', `${tool}.new`);
    appendFileSync(`${tool}.new`, 'trojan');
    renameSync(`${tool}.new`, tool);
    // unshare execs the program in place: the PID spawned is the PID that runs it, in the new namespace.
    const trojan = spawnOwned(unshare, ['--mount', '--propagation', 'private', tool, '300']);
    await eventually(() => readlinkSync(`/proc/${trojan.pid}/exe`).startsWith(tool), {
      intervalMs: 10,
      what: 'the trojan running in its namespace',
    });
    expect(readlinkSync(`/proc/self/ns/mnt`)).not.toBe(readlinkSync(`/proc/${trojan.pid}/ns/mnt`));

    const check = runCli([...args, 'check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ kind: string; subject: Record<string, unknown> }> }).findings;
    expect(findings).toContainEqual(
      expect.objectContaining({ kind: 'running_binary_mismatch', subject: expect.objectContaining({ path: tool, expected: 'baseline' }) }),
    );
  });

  it('leaves the collector out entirely with --no-collector.integrity', async () => {
    const exporter = await startExporter(['--state.dir', tempDir(), '--no-collector.integrity']);
    const names = parseExposition(await metrics(exporter)).map((s) => s.name);
    expect(names.filter((n) => n.startsWith('hostguard_integrity_') || n.startsWith('hostguard_package_'))).toEqual([]);
  });
});

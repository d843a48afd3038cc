import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyBaseline } from '../../../src/baseline/baseline.js';
import { BaselineStore } from '../../../src/baseline/store.js';
import { integrityCollector } from '../../../src/collectors/integrity.js';
import { Exporter } from '../../../src/exporter.js';
import { createLogger } from '../../../src/log/logger.js';
import { runCli, tempDir } from '../../helpers/cli.js';
import { sampleValue } from '../../helpers/exposition.js';
import { spawnOwned, stopProcess, waitForOutput } from '../../helpers/processes.js';
import { FakeDpkgRoot } from './fake-dpkg.js';
import { integrityArgs } from './tree.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const key = Buffer.from('a key of sixteen bytes or more..');
const policyText = 'integrity:\n  paths: [/usr/bin, /etc/tool]\n  running_executables: false\n';

function exporterOn(dpkg: FakeDpkgRoot, stateDir: string, lines: string[] = []): Exporter {
  const file = join(stateDir, 'policy.yml');
  writeFileSync(file, policyText);
  return new Exporter({
    paths: { procfs: '/proc', rootfs: dpkg.root, stateDir },
    policyFile: file,
    collectors: [integrityCollector],
    maxFindingSeries: 100,
    baselineKey: key,
    log: createLogger({ level: 'info', format: 'json', write: (line) => lines.push(line) }),
    build: { version: '0.0.0', revision: 'test' },
  });
}

/** A host with two packages: tool (a binary and a configuration file) and other. */
function host(): FakeDpkgRoot {
  const dpkg = new FakeDpkgRoot();
  dpkg.install('tool', '1.0', { '/usr/bin/tool': 'tool 1.0\n' }, { '/etc/tool/tool.conf': 'setting=1\n' });
  dpkg.install('other', '1.0', { '/usr/bin/other': 'other 1.0\n' });
  return dpkg;
}

const findingsOf = (snapshot: Awaited<ReturnType<Exporter['snapshot']>>) =>
  snapshot.result.findings.map((f) => [f.kind, f.subject['path'], f.severity]);

describe('package changes accepted by themselves', () => {
  it("an upgrade is accepted: logged, counted, kept in the sealed baseline's history; a hand edit afterwards stays critical", async () => {
    const dpkg = host();
    const state = tempDir();
    const lines: string[] = [];
    const exporter = exporterOn(dpkg, state, lines);
    try {
      const learned = await exporter.acceptCurrentState('operator');
      expect(learned.sections['packages']?.['tool:amd64']).toMatchObject({
        version: '1.0',
        state: 'installed',
        paths: ['/etc/tool', '/etc/tool/tool.conf', '/usr/bin', '/usr/bin/tool'],
      });
      expect(findingsOf(await exporter.snapshot())).toEqual([]);

      dpkg.install('tool', '2.0', { '/usr/bin/tool': 'tool 2.0\n' }, { '/etc/tool/tool.conf': 'setting=2\n' });
      const upgraded = await exporter.snapshot();
      expect(findingsOf(upgraded)).toEqual([]);
      expect(sampleValue(upgraded.exposition, 'hostguard_baseline_auto_accepted_total', { reason: 'package_upgrade' })).toBe(2);
      expect(sampleValue(upgraded.exposition, 'hostguard_baseline_auto_accepted_total', { reason: 'package_install' })).toBe(0);
      expect(
        lines.some((l) => /accepted into the baseline: explained by the package database/.test(l) && /"version_after":"2.0"/.test(l)),
      ).toBe(true);

      const verdict = verifyBaseline(readFileSync(join(state, 'baseline.json'), 'utf8'), key);
      expect(verdict.status).toBe('verified');
      const sections = verdict.status === 'verified' ? verdict.body.sections : {};
      expect(sections['integrity']?.['/usr/bin/tool']).toMatchObject({ sha256: sha256('tool 2.0\n') });
      expect(sections['packages']?.['tool:amd64']).toMatchObject({ version: '2.0' });
      expect(Object.values(sections['history'] ?? {})).toEqual([
        {
          reason: 'package_upgrade',
          package: 'tool:amd64',
          version_before: '1.0',
          version_after: '2.0',
          paths: {
            '/usr/bin/tool': { change: 'changed', sha256_before: sha256('tool 1.0\n'), sha256_after: sha256('tool 2.0\n') },
            '/etc/tool/tool.conf': { change: 'changed', sha256_before: sha256('setting=1\n'), sha256_after: sha256('setting=2\n') },
          },
        },
      ]);

      dpkg.writeFile('/usr/bin/tool', 'tool 2.0 with a backdoor\n', 0o755);
      dpkg.writeFile('/etc/tool/tool.conf', 'setting=2\nbackdoor=1\n');
      expect(findingsOf(await exporter.snapshot())).toEqual([
        ['content_changed', '/usr/bin/tool', 'critical'],
        ['content_changed', '/etc/tool/tool.conf', 'critical'],
        ['package_mismatch', '/usr/bin/tool', 'critical'],
      ]);
    } finally {
      await exporter.stop();
    }
  });

  it('an install, a removal and a purge are accepted; a file dropped into a watched directory during them is not', async () => {
    const dpkg = host();
    const exporter = exporterOn(dpkg, tempDir());
    try {
      await exporter.acceptCurrentState('operator');
      dpkg.install('tree', '2.1', { '/usr/bin/tree': 'tree\n' });
      dpkg.writeFile('/usr/bin/implant', '#!/bin/sh\n', 0o755);
      expect(findingsOf(await exporter.snapshot())).toEqual([['added', '/usr/bin/implant', 'critical']]);

      dpkg.remove('tool');
      expect(findingsOf(await exporter.snapshot())).toEqual([['added', '/usr/bin/implant', 'critical']]);
      dpkg.purge('tool');
      const purged = await exporter.snapshot();
      expect(findingsOf(purged)).toEqual([['added', '/usr/bin/implant', 'critical']]);
      const accepted = (reason: string) => sampleValue(purged.exposition, 'hostguard_baseline_auto_accepted_total', { reason });
      expect([accepted('package_install'), accepted('package_removal'), accepted('package_purge')]).toEqual([1, 1, 2]);
      const sections = exporter.baseline.trustedSections!;
      expect(Object.keys(sections['integrity']!).filter((p) => p.includes('tool'))).toEqual([]);
      expect(sections['packages']?.['tool:amd64']).toBeUndefined();
    } finally {
      await exporter.stop();
    }
  });

  it('while dpkg holds its lock, findings wait and nothing is accepted; once it lets go, the change is accepted', async () => {
    const dpkg = host();
    const exporter = exporterOn(dpkg, tempDir());
    try {
      await exporter.acceptCurrentState('operator');
      // One process holds the lock from start to end (--no-fork), so stopping it lets go.
      const holder = spawnOwned('flock', ['--no-fork', dpkg.path('/var/lib/dpkg/lock'), 'sh', '-c', 'echo locked; exec sleep 600']);
      await waitForOutput(holder, /locked/);
      // Mid-operation: the file is in place, the database does not record it yet.
      dpkg.writeFile('/usr/bin/other', 'other 2.0\n', 0o755);
      const during = await exporter.snapshot();
      expect(findingsOf(during)).toEqual([]);
      // Its content change, and its mismatch with the package's recorded MD5.
      expect(sampleValue(during.exposition, 'hostguard_integrity_held_findings')).toBe(2);
      expect(sampleValue(during.exposition, 'hostguard_package_operation_in_progress', { manager: 'dpkg' })).toBe(1);

      dpkg.install('other', '2.0', { '/usr/bin/other': 'other 2.0\n' });
      await stopProcess(holder);
      const after = await exporter.snapshot();
      expect(findingsOf(after)).toEqual([]);
      expect(sampleValue(after.exposition, 'hostguard_integrity_held_findings')).toBe(0);
      expect(sampleValue(after.exposition, 'hostguard_package_operation_in_progress', { manager: 'dpkg' })).toBe(0);
      expect(sampleValue(after.exposition, 'hostguard_baseline_auto_accepted_total', { reason: 'package_upgrade' })).toBe(1);
    } finally {
      await exporter.stop();
    }
  });
});

describe('the command line after package changes', () => {
  it('`check` accepts an install; `baseline show` and `baseline diff` say what was accepted', () => {
    const dpkg = host();
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, policyText);
    const args = [...integrityArgs(policy, join(dir, 'state')), '--path.rootfs', dpkg.root];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    dpkg.install('tree', '2.1', { '/usr/bin/tree': 'tree\n' });
    const check = runCli([...args, 'check']);
    expect(check.stdout, check.stderr).toBe('no findings\n');
    expect(check.code).toBe(0);

    const show = runCli([...args, 'baseline', 'show']);
    expect(show.stdout).toMatch(/entries: +integrity \d+, packages 3, history 1/);
    expect(show.stdout).toMatch(
      /accepted by the package database: 1 package change\n {2}\S+ {2}tree:amd64 {2}package_install 2\.1\n {4}\+ \/usr\/bin\/tree\n/,
    );
    const diff = runCli([...args, 'baseline', 'diff']);
    expect(diff.stdout).toMatch(/^no changes\naccepted by the package database since \S+: 1 package change\n/);
    expect(diff.code).toBe(0);
  });

  it('an old baseline without the package record explains nothing until the host matches it, then records the database', () => {
    const dpkg = host();
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, policyText);
    const state = join(dir, 'state');
    const args = [...integrityArgs(policy, state), '--path.rootfs', dpkg.root];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    // As an older version wrote it: the same baseline without `packages`.
    const store = new BaselineStore(state);
    const old = store.read();
    expect(old.status).toBe('verified');
    const { packages: _dropped, ...withoutPackages } = old.status === 'verified' ? old.body.sections : {};
    store.write(withoutPackages, 'operator');

    dpkg.install('tree', '2.1', { '/usr/bin/tree': 'tree\n' });
    const unexplained = runCli([...args, 'check']);
    expect(unexplained.stdout).toMatch(/critical +integrity +added +path=\/usr\/bin\/tree/);
    expect(unexplained.stderr).toMatch(/does not record the package database/);
    expect(unexplained.stderr).not.toMatch(/recorded the package database/);
    dpkg.purge('tree');
    const quiet = runCli([...args, 'check']);
    expect(quiet.stdout).toBe('no findings\n');
    expect(quiet.stderr).toMatch(/recorded the package database in the baseline/);
    dpkg.install('tree', '2.1', { '/usr/bin/tree': 'tree\n' });
    expect(runCli([...args, 'check']).stdout).toBe('no findings\n');
  });
});

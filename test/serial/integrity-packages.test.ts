import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import type { ChildProcess } from 'node:child_process';
import { spawnOwned, stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';
import { dpkgTestLock } from '../helpers/dpkg-lock.js';

/**
 * Real package operations on this host: dpkg installs, upgrades, removes and purges a package
 * built here with dpkg-deb (under /opt and /etc, paths nothing else uses), and apt-get installs and
 * removes one small archive package (tree). Each dpkg and apt-get run takes a lock shared with
 * whoever else changes packages on the machine; every package installed here is purged afterwards.
 */
const name = 'hostguard-test-pkg';
const prefix = `/opt/${name}`;
const confDir = `/etc/${name}`;
const binary = `${prefix}/bin/hgt-sleep`;
const sharedLock = dpkgTestLock;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** dpkg or apt-get under the shared lock; apt-get also waits for dpkg's own lock. */
function packageTool(command: 'dpkg' | 'apt-get', args: readonly string[]): void {
  const full = command === 'apt-get' ? ['-o', 'DPkg::Lock::Timeout=300', '-y', '-q', ...args] : args;
  const run = spawnSync('flock', [sharedLock, command, ...full], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${run.status}): ${run.stderr}${run.stdout}`);
}

function installed(pkg: string): boolean {
  return spawnSync('dpkg-query', ['-W', '-f', '${Status}', pkg], { encoding: 'utf8' }).stdout.endsWith(' installed');
}

/** The sleep binary with bytes appended after its end: a different file that still runs. */
function sleepVariant(tag: string): Buffer {
  return Buffer.concat([readFileSync('/usr/bin/sleep'), Buffer.from(`\n${tag}\n`)]);
}

interface Version {
  readonly version: string;
  readonly files: Record<string, string | Buffer>;
  readonly conffiles: Record<string, string>;
}

const v1: Version = {
  version: '1.0',
  files: { [binary]: sleepVariant('v1'), [`${prefix}/share/data.txt`]: 'data 1\n', [`${prefix}/share/dropped-in-2.txt`]: 'old\n' },
  conffiles: { [`${confDir}/pkg.conf`]: 'setting=1\n' },
};
const v2: Version = {
  version: '2.0',
  files: { [binary]: sleepVariant('v2'), [`${prefix}/share/data.txt`]: 'data 2\n', [`${prefix}/share/new-in-2.txt`]: 'new\n' },
  conffiles: { [`${confDir}/pkg.conf`]: 'setting=2\n' },
};

/** A .deb as dh_md5sums would make it: md5sums for everything but the configuration files. */
function buildDeb(dir: string, v: Version): string {
  const root = join(dir, `root-${v.version}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  for (const [path, content] of Object.entries({ ...v.files, ...v.conffiles })) {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), content);
    chmodSync(join(root, path), path === binary ? 0o755 : 0o644);
  }
  writeFileSync(
    join(root, 'DEBIAN/control'),
    [
      `Package: ${name}`,
      `Version: ${v.version}`,
      'Architecture: all',
      'Maintainer: hostguard tests <root@localhost>',
      'Description: hostguard-exporter integrity test package',
      '',
    ].join('\n'),
  );
  writeFileSync(join(root, 'DEBIAN/conffiles'), Object.keys(v.conffiles).join('\n') + '\n');
  writeFileSync(
    join(root, 'DEBIAN/md5sums'),
    Object.entries(v.files)
      .map(([path, content]) => `${md5(content)}  ${path.slice(1)}\n`)
      .join(''),
  );
  const deb = join(dir, `${name}_${v.version}_all.deb`);
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, deb], { stdio: 'ignore' });
  return deb;
}

function policy(paths: readonly string[], running: boolean, schedule = '*/15 * * * *'): string {
  const file = join(tempDir(), 'policy.yml');
  writeFileSync(
    file,
    [
      'integrity:',
      '  paths:',
      ...paths.map((p) => `    - ${p}`),
      `  running_executables: ${running}`,
      '  package_database: true',
      `  schedule: "${schedule}"`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Scrape `url` until `ready` holds for the exposition (each scrape judges the latest scan). */
async function scrapeUntil(url: string, ready: (text: string) => boolean, what: string): Promise<string> {
  return eventually(
    async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return ready(text) && text;
    },
    { intervalMs: 200, timeoutMs: 120_000, what: `a scrape showing ${what}` },
  );
}

function cli(policyFile: string) {
  const args = ['--collector.disable-defaults', '--collector.integrity', '--config.file', policyFile, '--state.dir', tempDir()];
  return (...more: string[]) => runCli([...args, ...more], { timeoutMs: 300_000 });
}

interface JsonFinding {
  readonly kind: string;
  readonly severity: string;
  readonly subject: Record<string, unknown>;
}

/** `check --format json`, the findings about `paths` (other processes on this shared host are not this test's). */
function findingsUnder(run: ReturnType<typeof cli>, ...paths: string[]): Array<[string, unknown, string]> {
  const check = run('check', '--format', 'json');
  expect(check.stdout, check.stderr).toMatch(/^\{/);
  const findings = (JSON.parse(check.stdout) as { findings: JsonFinding[] }).findings;
  return findings
    .filter((f) => paths.some((p) => String(f.subject['path']).startsWith(p)))
    .map((f) => [f.kind, f.subject['path'], f.severity]);
}

/** A process of `binary`, once it runs it (its /proc/PID/exe names the file). */
async function runningFrom(file: string): Promise<ChildProcess> {
  const child = spawnOwned(file, ['600']);
  await eventually(() => readlinkSync(`/proc/${child.pid}/exe`) === file, { what: `${file} running` });
  return child;
}

let installedTree = false;

afterAll(() => {
  if (installed(name) || spawnSync('dpkg-query', ['-W', name]).status === 0) packageTool('dpkg', ['--purge', name]);
  if (installedTree) packageTool('apt-get', ['purge', 'tree']);
  rmSync(prefix, { recursive: true, force: true });
  rmSync(confDir, { recursive: true, force: true });
});

describe('package operations on this host', () => {
  requireTool('dpkg-deb', 'dpkg');
  const debs = tempDir('hostguard-debs-');
  const deb1 = buildDeb(debs, v1);
  const deb2 = buildDeb(debs, v2);

  it(
    'install, upgrade, removal and purge of a package built here are accepted without a finding; a process still running the pre-upgrade binary is not a mismatch, a binary swapped back is',
    { timeout: 600_000 },
    async () => {
      const run = cli(policy([prefix, confDir], true));
      expect(run('baseline', 'init').code).toBe(0);
      packageTool('dpkg', ['-i', deb1]);
      expect(findingsUnder(run, prefix, confDir)).toEqual([]);
      const before = await runningFrom(binary);

      packageTool('dpkg', ['-i', deb2]);
      expect(readlinkSync(`/proc/${before.pid}/exe`)).toBe(`${binary} (deleted)`);
      expect(findingsUnder(run, prefix, confDir)).toEqual([]);
      const show = run('baseline', 'show', '--format', 'json');
      const history = Object.values(
        (
          JSON.parse(show.stdout) as {
            sections: { history: Record<string, { reason: string; paths: Record<string, { change: string; sha256_before?: string }> }> };
          }
        ).sections.history,
      );
      expect(history.map((r) => r.reason)).toEqual(['package_install', 'package_upgrade']);
      expect(history[1]?.paths[binary]).toMatchObject({ change: 'changed', sha256_before: sha256(v1.files[binary]!) });
      const presence = Object.entries(history[1]?.paths ?? {}).filter(([, c]) => c.change !== 'changed');
      expect(presence.map(([p, c]) => [p, c.change]).sort()).toEqual([
        [`${prefix}/share/dropped-in-2.txt`, 'removed'],
        [`${prefix}/share/new-in-2.txt`, 'added'],
      ]);

      // A trojan started from the package's path, then the package's file put back over it.
      const trojan = join(dirname(binary), '.swap');
      writeFileSync(trojan, sleepVariant('trojan'), { mode: 0o755 });
      renameSync(trojan, binary);
      const swapped = await runningFrom(binary);
      writeFileSync(trojan, v2.files[binary]!, { mode: 0o755 });
      renameSync(trojan, binary);
      expect(findingsUnder(run, prefix, confDir)).toEqual([['running_binary_mismatch', binary, 'critical']]);
      await stopProcess(swapped);
      await stopProcess(before);

      packageTool('dpkg', ['--remove', name]);
      expect(findingsUnder(run, prefix, confDir)).toEqual([]);
      packageTool('dpkg', ['--purge', name]);
      expect(findingsUnder(run, prefix, confDir)).toEqual([]);
      const reasons = Object.values(
        (JSON.parse(run('baseline', 'show', '--format', 'json').stdout) as { sections: { history: Record<string, { reason: string }> } })
          .sections.history,
      ).map((r) => r.reason);
      expect(reasons).toEqual(['package_install', 'package_upgrade', 'package_removal', 'package_purge']);
    },
  );

  it(
    'in serve, a running binary outside the watched set, verified against its package before the upgrade, is outdated after it, not a mismatch',
    { timeout: 600_000 },
    async () => {
      packageTool('dpkg', ['-i', deb1]);
      const before = await runningFrom(binary);
      // Only the configuration directory is watched: the binary is judged against the package database alone.
      const args = [
        '--collector.disable-defaults',
        '--collector.integrity',
        '--config.file',
        policy([confDir], true, '* * * * * *'),
        '--state.dir',
        tempDir(),
      ];
      const exporter = await startExporter(args);
      try {
        const mismatch = (text: string) =>
          sampleValue(text, 'hostguard_integrity_mismatch', { path: binary, kind: 'running_binary_mismatch', attribute: 'content' });
        const scans = (text: string) =>
          (sampleValue(text, 'hostguard_integrity_scans_total', { mode: 'fast' }) ?? 0) +
          (sampleValue(text, 'hostguard_integrity_scans_total', { mode: 'full' }) ?? 0);
        // A judged scan that saw the process: its image is verified against the package. Not merely
        // the first scan: on a first start that is the baseline's, which lists no running executables
        // (the scheduled scans after it do, however long they take).
        await scrapeUntil(
          exporter.url,
          (text) => (sampleValue(text, 'hostguard_integrity_running_executables', { result: 'verified' }) ?? 0) >= 1,
          'a judged scan of the running executables',
        );
        packageTool('dpkg', ['-i', deb2]);
        expect(readlinkSync(`/proc/${before.pid}/exe`)).toBe(`${binary} (deleted)`);
        const accepted = await scrapeUntil(
          exporter.url,
          (text) => (sampleValue(text, 'hostguard_baseline_auto_accepted_total', { reason: 'package_upgrade' }) ?? 0) >= 1,
          'the upgrade accepted',
        );
        expect(mismatch(accepted)).toBeUndefined();
        // And on the scans after it, against the baseline that holds the upgrade.
        const later = scans(accepted) + 2;
        const settled = await scrapeUntil(exporter.url, (text) => scans(text) >= later, 'two more scans');
        expect(mismatch(settled)).toBeUndefined();
        expect(sampleValue(settled, 'hostguard_integrity_running_executables', { result: 'outdated' })).toBeGreaterThanOrEqual(1);

        // The control: a trojan swapped back for the package's file is reported, in the same exporter.
        const swap = join(dirname(binary), '.swap');
        writeFileSync(swap, sleepVariant('trojan'), { mode: 0o755 });
        renameSync(swap, binary);
        const trojan = await runningFrom(binary);
        writeFileSync(swap, v2.files[binary]!, { mode: 0o755 });
        renameSync(swap, binary);
        await scrapeUntil(exporter.url, (text) => mismatch(text) === 1, 'the swapped-back trojan');
        await stopProcess(trojan);
      } finally {
        await stopProcess(exporter.child);
        await stopProcess(before);
        packageTool('dpkg', ['--purge', name]);
      }
    },
  );

  it(
    'a hand edit in the same minute as an upgrade, and a package file replaced by other content, stay critical',
    { timeout: 600_000 },
    () => {
      packageTool('dpkg', ['-i', deb1]);
      const run = cli(policy([prefix, confDir], false));
      expect(run('baseline', 'init').code).toBe(0);
      packageTool('dpkg', ['-i', deb2]);
      appendFileSync(`${confDir}/pkg.conf`, 'PermitRootLogin=yes\n');
      writeFileSync(`${prefix}/bin/implant`, '#!/bin/sh\nexec /bin/sh -i\n', { mode: 0o755 });
      const other = join(prefix, 'share/.other');
      copyFileSync('/usr/bin/true', other);
      renameSync(other, `${prefix}/share/new-in-2.txt`);
      const check = run('check');
      expect(check.code).toBe(1);
      expect(findingsUnder(run, prefix, confDir)).toEqual([
        ['added', `${prefix}/bin/implant`, 'critical'],
        ['added', `${prefix}/share/new-in-2.txt`, 'critical'],
        ['content_changed', `${confDir}/pkg.conf`, 'critical'],
        ['package_mismatch', `${prefix}/share/new-in-2.txt`, 'critical'],
      ]);
      // The rest of the upgrade was accepted: the binary, the data file, the dropped file.
      const history = Object.values(
        (
          JSON.parse(run('baseline', 'show', '--format', 'json').stdout) as {
            sections: { history: Record<string, { paths: Record<string, unknown> }> };
          }
        ).sections.history,
      );
      expect(Object.keys(history[0]?.paths ?? {}).sort()).toEqual([binary, `${prefix}/share/data.txt`, `${prefix}/share/dropped-in-2.txt`]);
      packageTool('dpkg', ['--purge', name]);
    },
  );

  it('apt-get install and remove of an archive package (tree) are accepted without a finding', { timeout: 600_000 }, () => {
    expect(installed('tree'), 'tree must not be installed before this test: it installs and removes it').toBe(false);
    const watched = ['/usr/bin/tree', '/usr/share/doc/tree', '/usr/share/man/man1/tree.1.gz'];
    const run = cli(policy(watched, false));
    expect(run('baseline', 'init').code).toBe(0);
    installedTree = true;
    packageTool('apt-get', ['install', '--no-install-recommends', 'tree']);
    const afterInstall = run('check');
    expect(afterInstall.stdout, afterInstall.stderr).toBe('no findings\n');
    expect(afterInstall.code).toBe(0);
    packageTool('apt-get', ['remove', 'tree']);
    installedTree = false;
    const afterRemoval = run('check');
    expect(afterRemoval.stdout, afterRemoval.stderr).toBe('no findings\n');
    const show = run('baseline', 'show');
    expect(show.stdout).toMatch(/tree:amd64 {2}package_install 2\.1\.0-1\n {4}\+ \/usr\/bin\/tree\n/);
    expect(show.stdout).toMatch(/tree:amd64 {2}package_(removal|purge) 2\.1\.0-1\n {4}- \/usr\/bin\/tree\n/);
  });
});

import { describe, expect, it } from 'vitest';
import { lockHolders } from '../../src/integrity/dpkg-operation.js';
import { isSettled, parseDpkgStatus } from '../../src/integrity/dpkg-status.js';
import type { FileState } from '../../src/integrity/file-state.js';
import type { PackageContext } from '../../src/integrity/judge-packages.js';
import { judgeIntegrity, type JudgedObservation } from '../../src/integrity/judge.js';
import {
  appendHistory,
  formerHashes,
  readHistory,
  readPackagesSection,
  type RecordedPackages,
} from '../../src/integrity/package-baseline.js';
import type { InstalledPackage, PackageChecksum, PackageView, RunningObservation } from '../../src/integrity/snapshot.js';
import { compileWatchScope } from '../../src/integrity/watch-scope.js';
import { fileState, md5, sha } from '../helpers/file-states.js';
import { parseLocks, processStartedAt } from '../../src/procfs/locks.js';

describe('the dpkg status file', () => {
  const status = [
    'Package: tree',
    'Status: install ok installed',
    'Architecture: amd64',
    'Version: 2.1.0-1',
    'Description: list contents',
    ' of directories',
    '',
    'Package: cron',
    'Status: deinstall ok config-files',
    'Architecture: amd64',
    'Version: 3.0pl1-162',
    'Conffiles:',
    ' /etc/crontab 0123456789abcdef0123456789abcdef',
    ' /etc/cron.d/old fedcba9876543210fedcba9876543210 obsolete',
    ' /etc/cron.d/new newconffile',
    '',
    'Package: gone',
    'Status: purge ok not-installed',
    '',
    'Package: half',
    'Status: install reinstreq half-installed',
    'Architecture: all',
    'Version: 1',
    '',
  ].join('\n');

  it('reads packages, versions, states and configuration files; drops not-installed ones', () => {
    const entries = parseDpkgStatus(status);
    expect(entries.map((e) => [e.name, e.architecture, e.version, e.state, isSettled(e)])).toEqual([
      ['tree', 'amd64', '2.1.0-1', 'installed', true],
      ['cron', 'amd64', '3.0pl1-162', 'config-files', true],
      ['half', 'all', '1', 'half-installed', false],
    ]);
    expect(entries[1]?.conffiles).toEqual([
      { path: '/etc/crontab', md5: '0123456789abcdef0123456789abcdef', obsolete: false },
      { path: '/etc/cron.d/old', md5: 'fedcba9876543210fedcba9876543210', obsolete: true },
    ]);
    // The fingerprint's status part: what changes with an upgrade, a removal or a conffile, not the description.
    expect(entries[0]?.recorded).toBe('Version: 2.1.0-1\nStatus: install ok installed');
  });

  it('skips garbage without throwing', () => {
    expect(parseDpkgStatus('Package\n\n: x\nStatus: a b\n\n\0\0')).toEqual([]);
  });
});

describe('dpkg locks in /proc/locks', () => {
  it('dates a lock holder by its start, read from /proc/PID/stat', () => {
    const procfs = new URL('../fixtures/processes/proc', import.meta.url).pathname;
    // btime 1700000000; PID 300 started 7000 clock ticks (of 10 ms) after boot.
    expect(processStartedAt(procfs, 300)).toBe(1_700_000_070);
    expect(processStartedAt(procfs, 2 ** 22 + 1)).toBeUndefined();
  });

  it('finds the holders of a lock by device and inode, not by inode alone; waiters are not holders', () => {
    const locks = parseLocks(
      [
        '1: POSIX  ADVISORY  WRITE 4242 fe:00:402117 0 EOF',
        '1: -> POSIX  ADVISORY  WRITE 4343 fe:00:402117 0 EOF',
        '2: FLOCK  ADVISORY  WRITE 443 fe:01:402116 0 EOF',
        '',
      ].join('\n'),
    );
    expect(locks).toEqual([
      { type: 'POSIX', pid: 4242, major: 0xfe, minor: 0, inode: '402117' },
      { type: 'FLOCK', pid: 443, major: 0xfe, minor: 1, inode: '402116' },
    ]);
    // st_dev 0xfe00 is major 254, minor 0.
    expect(
      lockHolders(locks, [
        { dev: 0xfe00n, ino: 402117n },
        { dev: 0xfe00n, ino: 402116n },
      ]),
    ).toEqual([4242]);
  });
});

const file = fileState;
const directory = file({ type: 'directory', sha256: undefined });

/** A dpkg database: packages with their listed paths, md5sums and configuration files. */
function database(
  packages: Array<{
    key: string;
    version?: string;
    state?: string;
    settled?: boolean;
    fingerprint: string;
    files?: Record<string, string | null>;
    conffiles?: Record<string, string>;
  }>,
): PackageView {
  const installed = new Map<string, InstalledPackage>();
  const sums = new Map<string, PackageChecksum>();
  const confs = new Map<string, PackageChecksum>();
  const owners = new Map<string, string[]>();
  for (const p of packages) {
    const name = p.key.split(':')[0]!;
    const paths = [...Object.keys(p.files ?? {}), ...Object.keys(p.conffiles ?? {})];
    installed.set(p.key, {
      key: p.key,
      version: p.version ?? '1',
      state: p.state ?? 'installed',
      settled: p.settled ?? true,
      fingerprint: p.fingerprint,
      paths,
    });
    for (const [path, sum] of Object.entries(p.files ?? {})) if (sum !== null) sums.set(path, { md5: sum, package: name, key: p.key });
    for (const [path, sum] of Object.entries(p.conffiles ?? {})) confs.set(path, { md5: sum, package: name, key: p.key });
    for (const path of paths) owners.set(path, [...(owners.get(path) ?? []), p.key]);
  }
  return { packages: installed, checksumOf: (p) => sums.get(p), conffileOf: (p) => confs.get(p), ownersOf: (p) => owners.get(p) ?? [] };
}

function recorded(
  entries: Record<string, { version?: string; state?: string; fingerprint: string; paths?: string[] } | 'invalid'>,
): RecordedPackages {
  return new Map(
    Object.entries(entries).map(([key, e]) => [
      key,
      e === 'invalid'
        ? 'invalid'
        : { version: e.version ?? '1', state: e.state ?? 'installed', fingerprint: e.fingerprint, paths: new Set(e.paths ?? []) },
    ]),
  );
}

function context(current: PackageView, before: RecordedPackages | undefined, over: Partial<PackageContext> = {}): PackageContext {
  return {
    current,
    recorded: before,
    formerHashes: new Map(),
    verifiedImages: new Set(),
    operation: { inProgress: false },
    now: 10_000,
    graceSeconds: 900,
    ...over,
  };
}

const scope = compileWatchScope(['/usr/bin', '/etc/tree'], []);
function observed(files: Record<string, FileState>, packages: PackageView, running?: RunningObservation[]): JudgedObservation {
  return { files: new Map(Object.entries(files)), scope, unreadableDirs: [], packages, ...(running && { running: { images: running } }) };
}

function judge(files: Record<string, FileState>, baseline: Record<string, FileState>, ctx: PackageContext, running?: RunningObservation[]) {
  const j = judgeIntegrity(observed(files, ctx.current, running), new Map(Object.entries(baseline)), ctx);
  return {
    ...j,
    summary: j.findings.map((f) => [f.kind, f.subject['path'], f.severity]),
    accepted: j.packageRecord?.accepted.map((a) => [a.path, a.package, a.reason]),
  };
}

describe('changes explained by the package database', () => {
  const base = { '/usr/bin': directory, '/usr/bin/ls': file({ sha256: sha('1'), md5: md5('1') }) };
  const coreutils = { key: 'coreutils:amd64', fingerprint: 'c', files: { '/usr/bin/ls': md5('1') } };

  it('accepts a file a newly installed package put there, with its recorded MD5', () => {
    const now = database([coreutils, { key: 'tree:amd64', fingerprint: 't1', files: { '/usr/bin/tree': md5('t') } }]);
    const j = judge(
      { ...base, '/usr/bin/tree': file({ sha256: sha('t'), md5: md5('t') }) },
      base,
      context(now, recorded({ 'coreutils:amd64': { fingerprint: 'c' } })),
    );
    expect(j.summary).toEqual([]);
    expect(j.accepted).toEqual([['/usr/bin/tree', 'tree:amd64', 'package_install']]);
    expect(j.packageRecord?.packages.map((p) => [p.key, p.reason])).toEqual([['tree:amd64', 'package_install']]);
  });

  it('accepts an upgraded file, metadata included, and nothing of a package that did not change', () => {
    const before = { ...base, '/usr/bin/tree': file({ sha256: sha('t'), mode: 0o700 }), '/usr/bin/cp': file({ sha256: sha('c') }) };
    const now = database([
      { ...coreutils, files: { '/usr/bin/ls': md5('1'), '/usr/bin/cp': md5('c') } },
      { key: 'tree:amd64', version: '2', fingerprint: 't2', files: { '/usr/bin/tree': md5('2') } },
    ]);
    const rec = recorded({ 'coreutils:amd64': { fingerprint: 'c' }, 'tree:amd64': { version: '1', fingerprint: 't1' } });
    // cp was replaced by its package's own content, but coreutils did not change: someone put it back by hand.
    const j = judge(
      {
        ...before,
        '/usr/bin/tree': file({ sha256: sha('2'), md5: md5('2'), inode: '11' }),
        '/usr/bin/cp': file({ sha256: sha('d'), md5: md5('c') }),
      },
      before,
      context(now, rec),
    );
    expect(j.summary).toEqual([['content_changed', '/usr/bin/cp', 'critical']]);
    expect(j.accepted).toEqual([['/usr/bin/tree', 'tree:amd64', 'package_upgrade']]);
  });

  it('keeps a package file replaced by a different binary critical, and a file changed by hand during the upgrade', () => {
    const before = { ...base, '/usr/bin/tree': file({ sha256: sha('t') }), '/usr/bin/local': file({ sha256: sha('l') }) };
    const now = database([coreutils, { key: 'tree:amd64', version: '2', fingerprint: 't2', files: { '/usr/bin/tree': md5('2') } }]);
    const rec = recorded({ 'coreutils:amd64': { fingerprint: 'c' }, 'tree:amd64': { version: '1', fingerprint: 't1' } });
    const j = judge(
      { ...before, '/usr/bin/tree': file({ sha256: sha('x'), md5: md5('x') }), '/usr/bin/local': file({ sha256: sha('m') }) },
      before,
      context(now, rec),
    );
    expect(j.summary).toEqual([
      ['content_changed', '/usr/bin/tree', 'critical'],
      ['content_changed', '/usr/bin/local', 'critical'],
      ['package_mismatch', '/usr/bin/tree', 'critical'],
    ]);
    expect(j.accepted).toEqual([]);
    // The package's record moves on: the tampered file stays a finding against the baseline's content.
    expect(j.packageRecord?.packages.map((p) => p.key)).toEqual(['tree:amd64']);
  });

  it("accepts the removal and the purge of a package's files, not the removal of a file another package still lists", () => {
    const before = {
      ...base,
      '/usr/bin/tree': file(),
      '/usr/bin/tree-extra': file(),
      '/etc/tree': directory,
      '/etc/tree/tree.conf': file(),
    };
    const rec = recorded({
      'coreutils:amd64': { fingerprint: 'c' },
      'tree:amd64': { fingerprint: 't1', paths: ['/usr/bin/tree', '/usr/bin/tree-extra', '/etc/tree', '/etc/tree/tree.conf'] },
    });
    // Removed (configuration kept, still listed), with tree-extra now claimed by another package.
    const removed = database([
      coreutils,
      { key: 'tree:amd64', state: 'config-files', fingerprint: 't2', conffiles: { '/etc/tree/tree.conf': md5('f') } },
      { key: 'tree-ng:amd64', fingerprint: 'n', files: { '/usr/bin/tree-extra': md5('e') } },
    ]);
    const j = judge({ ...base, '/etc/tree': directory, '/etc/tree/tree.conf': file() }, before, context(removed, rec));
    expect(j.summary).toEqual([['removed', '/usr/bin/tree-extra', 'critical']]);
    expect(j.accepted).toEqual([['/usr/bin/tree', 'tree:amd64', 'package_removal']]);
    // Purged: the package and its configuration are gone from the database.
    const purged = judge({ ...base }, before, context(database([coreutils]), rec));
    expect(purged.summary).toEqual([]);
    expect(purged.accepted?.map(([path, , reason]) => [path, reason])).toEqual([
      ['/usr/bin/tree', 'package_purge'],
      ['/usr/bin/tree-extra', 'package_purge'],
      ['/etc/tree', 'package_purge'],
      ['/etc/tree/tree.conf', 'package_purge'],
    ]);
  });

  it('never accepts a new setuid bit, nor a file of a package the baseline has no valid record of, nor one dpkg is half-way through', () => {
    const now = database([
      coreutils,
      { key: 'sudo:amd64', fingerprint: 's', files: { '/usr/bin/sudo': md5('s') } },
      { key: 'odd:amd64', fingerprint: 'o2', files: { '/usr/bin/odd': md5('o') } },
      { key: 'half:amd64', fingerprint: 'h2', settled: false, state: 'half-installed', files: { '/usr/bin/half': md5('h') } },
    ]);
    const rec = recorded({ 'coreutils:amd64': { fingerprint: 'c' }, 'odd:amd64': 'invalid', 'half:amd64': { fingerprint: 'h1' } });
    const j = judge(
      {
        ...base,
        '/usr/bin/sudo': file({ mode: 0o4755, md5: md5('s') }),
        '/usr/bin/odd': file({ md5: md5('o') }),
        '/usr/bin/half': file({ md5: md5('h') }),
      },
      base,
      context(now, rec),
    );
    expect(j.summary).toEqual([
      ['added', '/usr/bin/sudo', 'critical'],
      ['added', '/usr/bin/odd', 'critical'],
      ['added', '/usr/bin/half', 'critical'],
    ]);
    expect(j.packageRecord?.packages.map((p) => p.key)).toEqual(['sudo:amd64']);
  });

  it("treats configuration files by the MD5 the package shipped: an edited one stays a finding; dpkg's copies beside it are explained", () => {
    const before = {
      '/etc/tree': directory,
      '/etc/tree/a.conf': file({ sha256: sha('a') }),
      '/etc/tree/b.conf': file({ sha256: sha('e') }),
      '/etc/tree/c.conf': file({ sha256: sha('m') }),
    };
    const now = database([
      {
        key: 'tree:amd64',
        version: '2',
        fingerprint: 't2',
        conffiles: { '/etc/tree/a.conf': md5('2'), '/etc/tree/b.conf': md5('3'), '/etc/tree/c.conf': md5('4') },
      },
    ]);
    const rec = recorded({ 'tree:amd64': { version: '1', fingerprint: 't1' } });
    const j = judge(
      {
        '/etc/tree': directory,
        // Unedited: the upgrade installed the new version.
        '/etc/tree/a.conf': file({ sha256: sha('2'), md5: md5('2') }),
        // Edited by the administrator and kept; the new version set aside beside it.
        '/etc/tree/b.conf': file({ sha256: sha('e') }),
        '/etc/tree/b.conf.dpkg-dist': file({ sha256: sha('3'), md5: md5('3') }),
        // Edited, replaced by the new version on request; the edit kept as .dpkg-old.
        '/etc/tree/c.conf': file({ sha256: sha('4'), md5: md5('4') }),
        '/etc/tree/c.conf.dpkg-old': file({ sha256: sha('m') }),
        // Edited during the upgrade: matches nothing dpkg recorded.
        '/etc/tree/d.conf.dpkg-old': file({ sha256: sha('z') }),
      },
      before,
      context(now, rec),
    );
    expect(j.summary).toEqual([['added', '/etc/tree/d.conf.dpkg-old', 'critical']]);
    expect(j.accepted?.map(([path]) => path)).toEqual([
      '/etc/tree/a.conf',
      '/etc/tree/b.conf.dpkg-dist',
      '/etc/tree/c.conf',
      '/etc/tree/c.conf.dpkg-old',
    ]);
    const edited = judge({ ...before, '/etc/tree/a.conf': file({ sha256: sha('9'), md5: md5('9') }) }, before, context(now, rec));
    expect(edited.summary).toEqual([['content_changed', '/etc/tree/a.conf', 'critical']]);
  });

  it('explains nothing while the baseline has no record of the database; records it once the host matches the baseline', () => {
    const now = database([coreutils, { key: 'tree:amd64', fingerprint: 't1', files: { '/usr/bin/tree': md5('t') } }]);
    const changed = judge({ ...base, '/usr/bin/tree': file({ md5: md5('t') }) }, base, context(now, undefined));
    expect(changed.summary).toEqual([['added', '/usr/bin/tree', 'critical']]);
    expect(changed.packageRecord).toBeUndefined();
    const clean = judge({ ...base }, base, context(now, undefined));
    expect(clean.packageRecord).toEqual({ accepted: [], refreshed: new Map(), packages: [], adopt: true });
  });
});

describe('while a package operation runs', () => {
  const now = database([{ key: 'tree:amd64', fingerprint: 't2', files: { '/usr/bin/tree': md5('t') } }]);
  const rec = recorded({ 'tree:amd64': { fingerprint: 't1' } });
  const files = { '/usr/bin/tree': file({ sha256: sha('x'), md5: md5('x') }) };
  const before = { '/usr/bin/tree': file() };

  it('holds every finding back for the grace window, accepts nothing, and reports them at full severity after it', () => {
    const running = judge(files, before, context(now, rec, { operation: { inProgress: true, since: 9_500 } }));
    expect(running.summary).toEqual([]);
    expect(running.held).toBe(2);
    expect(running.packageRecord).toBeUndefined();
    const outlasting = judge(files, before, context(now, rec, { operation: { inProgress: true, since: 9_000 } }));
    expect(outlasting.summary).toEqual([
      ['content_changed', '/usr/bin/tree', 'critical'],
      ['package_mismatch', '/usr/bin/tree', 'critical'],
    ]);
    expect(outlasting.held).toBe(0);
    expect(outlasting.packageRecord).toBeUndefined();
  });

  it('a database that changed during the scan with no lock seen holds nothing back, and accepts nothing from that scan', () => {
    const explained = { '/usr/bin/tree': file({ sha256: sha('t'), md5: md5('t') }) };
    const changing = judge(explained, before, context(now, rec, { operation: { inProgress: false, changedDuringScan: true } }));
    expect(changing.summary).toEqual([]);
    expect(changing.packageRecord).toBeUndefined();
    expect(judge(files, before, context(now, rec, { operation: { inProgress: false, changedDuringScan: true } })).summary).toHaveLength(2);
    expect(judge(explained, before, context(now, rec)).accepted).toEqual([['/usr/bin/tree', 'tree:amd64', 'package_change']]);
  });
});

describe('running executables replaced by an upgrade', () => {
  const before = { '/usr/bin/tree': file({ sha256: sha('1') }) };
  const now = database([{ key: 'tree:amd64', version: '2', fingerprint: 't2', files: { '/usr/bin/tree': md5('2') } }]);
  const rec = recorded({ 'tree:amd64': { version: '1', fingerprint: 't1' } });
  const upgraded = { '/usr/bin/tree': file({ sha256: sha('2'), md5: md5('2'), inode: '11' }) };
  const image = (over: Partial<RunningObservation>): RunningObservation => ({
    path: '/usr/bin/tree',
    deleted: true,
    pids: [42],
    key: 'k-old',
    ...over,
  });

  it('counts the pre-upgrade image as outdated and a process started since as verified, in the judgment that accepts the upgrade', () => {
    const j = judge(upgraded, before, context(now, rec), [
      image({ sha256: sha('1') }),
      image({ deleted: false, sha256: sha('2'), md5: md5('2'), key: 'k-new' }),
    ]);
    expect(j.summary).toEqual([]);
    expect(j.running).toMatchObject({ outdated: 1, verified: 1, mismatched: 0 });
    expect(j.verifiedImages).toEqual(['k-new']);
  });

  it("vouches for a replaced image by the baseline's history or by an earlier verification, and for nothing else", () => {
    const after = { '/usr/bin/tree': upgraded['/usr/bin/tree'] };
    const settled = context(now, recorded({ 'tree:amd64': { version: '2', fingerprint: 't2' } }));
    const history = judge(upgraded, after, { ...settled, formerHashes: new Map([['/usr/bin/tree', new Set([sha('1')])]]) }, [
      image({ sha256: sha('1') }),
    ]);
    expect(history.running).toMatchObject({ outdated: 1, mismatched: 0 });
    const seen = judge(upgraded, after, { ...settled, verifiedImages: new Set(['k-old']) }, [image({ sha256: sha('1') })]);
    expect(seen.running).toMatchObject({ outdated: 1, mismatched: 0 });
    // A trojan started and then swapped back for the package's file: neither.
    const swapped = judge(upgraded, after, settled, [image({ sha256: sha('6') })]);
    expect(swapped.summary).toEqual([['running_binary_mismatch', '/usr/bin/tree', 'critical']]);
  });
});

describe('the packages and history sections', () => {
  it('reads a malformed package entry as invalid, not as absent', () => {
    const parsed = readPackagesSection({
      'tree:amd64': { version: '1', state: 'installed', sha256: sha('a'), paths: ['/usr/bin/tree'] },
      'odd:all': { version: 1 },
    });
    expect(parsed?.get('tree:amd64')).toEqual({
      version: '1',
      state: 'installed',
      fingerprint: sha('a'),
      paths: new Set(['/usr/bin/tree']),
    });
    expect(parsed?.get('odd:all')).toBe('invalid');
    expect(readPackagesSection(undefined)).toBeUndefined();
  });

  it('keeps the newest records within the limit, and remembers what each path was before', () => {
    const record = (at: string, before: string) => ({
      at,
      reason: 'package_upgrade' as const,
      package: 'tree:amd64',
      paths: { '/usr/bin/tree': { change: 'changed' as const, sha256_before: sha(before) } },
    });
    let section = appendHistory(undefined, [record('2026-01-01T00:00:00.000Z', '1')], 2);
    section = appendHistory(section, [record('2026-01-03T00:00:00.000Z', '3'), record('2026-01-02T00:00:00.000Z', '2')], 2);
    expect(Object.keys(section)).toEqual(['2026-01-02T00:00:00.000Z tree:amd64', '2026-01-03T00:00:00.000Z tree:amd64']);
    const history = readHistory({ ...section, garbage: { reason: 'because' } });
    expect(history.map((r) => r.at)).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);
    expect(formerHashes(history).get('/usr/bin/tree')).toEqual(new Set([sha('2'), sha('3')]));
  });
});

import { describe, expect, it } from 'vitest';
import { ChangeQueue, type ChangeBatch, type Timers } from '../../src/integrity/change-queue.js';
import type { DpkgDatabase } from '../../src/integrity/dpkg.js';
import type { FileState } from '../../src/integrity/file-state.js';
import { judgeIntegrity } from '../../src/integrity/judge.js';
import type { PackageContext } from '../../src/integrity/judge-packages.js';
import { mergeRescan } from '../../src/integrity/rescan.js';
import type { Observation } from '../../src/integrity/scan.js';
import type { RunningObservation } from '../../src/integrity/snapshot.js';
import { coveringTargets, globPrefix, meaningOf, planWatches } from '../../src/integrity/watch-plan.js';
import { compileWatchScope } from '../../src/integrity/watch-scope.js';

const dir: FileState = { type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 4096, inode: '1', mtimeNs: '1', ctimeNs: '1' };
const file = (sha: string): FileState => ({
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 10,
  inode: '2',
  mtimeNs: '1',
  ctimeNs: '1',
  sha256: sha.repeat(64),
});

/** A clock the test moves: timers fire when `advance` passes them. */
class TestTimers implements Timers {
  private time = 0;
  private nextId = 0;
  private readonly pending = new Map<number, { at: number; fire: () => void }>();
  now = () => this.time;
  setTimeout = (fire: () => void, ms: number) => {
    const id = ++this.nextId;
    this.pending.set(id, { at: this.time + ms, fire });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.pending.delete(handle as number);
  };
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.time = due[1].at;
      due[1].fire();
    }
    this.time = until;
  }
}

const options = { settleMs: 100, maxDelayMs: 500, maxTargets: 5, packageSettleMs: 5000, packageMaxDelayMs: 60_000 };

function queue(): { q: ChangeQueue; timers: TestTimers; batches: ChangeBatch[]; takenAt: number[] } {
  const timers = new TestTimers();
  const batches: ChangeBatch[] = [];
  const takenAt: number[] = [];
  const q: ChangeQueue = new ChangeQueue(options, timers, () => {
    const batch = q.take();
    if (batch) {
      batches.push(batch);
      takenAt.push(timers.now());
    }
  });
  return { q, timers, batches, takenAt };
}

describe('what the watch watches', () => {
  const scope = compileWatchScope(
    ['/etc/passwd', '/etc/cron.d', '/etc/cron.*', '/root/.ssh/authorized_keys', '/etc/ld.so.preload'],
    ['/etc/cron.d/skip'],
  );
  const existing = new Set(['/', '/etc', '/root', '/etc/cron.d', '/etc/cron.d/sub']);
  const files = new Map<string, FileState>([
    ['/etc/passwd', file('a')],
    ['/etc/cron.d', dir],
    ['/etc/cron.d/sub', dir],
    ['/etc/cron.d/job', file('b')],
  ]);

  it('watches every observed directory and the nearest existing directory of each path and glob', () => {
    const plan = planWatches(scope, files, (p) => existing.has(p));
    // /root/.ssh does not exist: its key file is watched from /root, so creating .ssh is seen.
    expect([...plan.directories].sort()).toEqual(['/etc', '/etc/cron.d', '/etc/cron.d/sub', '/root']);
  });

  it('reads a watched path again, ignores its neighbours, and re-plans when a directory on the way changes', () => {
    expect(meaningOf(scope, '/etc/passwd')).toEqual({ kind: 'changed', targets: ['/etc/passwd'] });
    expect(meaningOf(scope, '/etc/cron.daily/x')).toEqual({ kind: 'changed', targets: ['/etc/cron.daily/x'] });
    expect(meaningOf(scope, '/etc/motd')).toEqual({ kind: 'ignored' });
    expect(meaningOf(scope, '/etc/cron.d/skip')).toEqual({ kind: 'ignored' });
    expect(meaningOf(scope, '/root/.ssh')).toEqual({ kind: 'structure', targets: ['/root/.ssh/authorized_keys'] });
    expect(meaningOf(scope, '/etc')).toEqual({
      kind: 'structure',
      targets: ['/etc/passwd', '/etc/cron.d', '/etc/ld.so.preload', '/etc/cron.*'],
    });
  });

  it('never hands a rescan a name it would read as a glob', () => {
    expect(meaningOf(scope, '/etc/cron.d/x[1]')).toEqual({ kind: 'changed', targets: ['/etc/cron.d'] });
  });

  it('rescans each path once and nothing below a directory it rescans', () => {
    expect(coveringTargets(['/a/b/c', '/a/b', '/a/b-c', '/a/b', '/x', '/etc/cron.*'])).toEqual(['/x', '/a/b', '/a/b-c', '/etc/cron.*']);
    expect(globPrefix('/etc/cron.*')).toBe('/etc');
    expect(globPrefix('/usr/lib/*-linux-gnu*/security')).toBe('/usr/lib');
  });
});

describe('coalescing changes into rescans', () => {
  it('sends a burst as one batch once it settles, each path once', () => {
    const { q, timers, batches } = queue();
    for (let i = 0; i < 20; i++) {
      q.add(['/etc/passwd']);
      timers.advance(10);
    }
    q.add(['/etc/shadow']);
    expect(batches).toEqual([]);
    timers.advance(100);
    expect(batches).toEqual([{ kind: 'targets', targets: ['/etc/passwd', '/etc/shadow'], firstAt: 0 }]);
  });

  it('does not let a steady trickle wait longer than the maximum delay', () => {
    const { q, timers, batches, takenAt } = queue();
    for (let i = 0; i < 10; i++) {
      q.add([`/f${i % 3}`]);
      timers.advance(60);
    }
    // Events never settled for 100 ms: the first batch left at 500 ms, with what had come by then.
    expect(takenAt[0]).toBe(500);
    expect(batches[0]).toEqual({ kind: 'targets', targets: ['/f0', '/f1', '/f2'], firstAt: 0 });
  });

  it('turns more changed paths than a batch holds into one whole scan', () => {
    const { q, timers, batches } = queue();
    q.add(['/1', '/2', '/3', '/4', '/5', '/6']);
    timers.advance(100);
    expect(batches).toEqual([{ kind: 'whole', reason: 'burst', targets: [], firstAt: 0 }]);
  });

  it('scans everything at once on an overflow, whatever was queued', () => {
    const { q, batches } = queue();
    q.add(['/etc/passwd']);
    q.wholeNow('overflow');
    expect(batches).toEqual([{ kind: 'whole', reason: 'overflow', targets: [], firstAt: 0 }]);
  });

  it('waits for the package manager to be quiet before its whole scan', () => {
    const { q, timers, batches } = queue();
    for (let i = 0; i < 10; i++) {
      q.packageManagerActive();
      timers.advance(1000);
    }
    expect(batches).toEqual([]);
    timers.advance(5000);
    expect(batches).toEqual([{ kind: 'whole', reason: 'package_manager', targets: [], firstAt: 14_000 }]);
  });
});

describe('merging a rescan into the last observation', () => {
  const observation = (files: Record<string, FileState>, unreadableDirs: string[] = []): Observation =>
    ({
      mode: 'fast',
      startedAt: new Date(0),
      finishedAt: new Date(1),
      scope: compileWatchScope(['/etc'], []),
      files: new Map(Object.entries(files)),
      unreadableDirs,
      unexpandedGlobs: [],
      problems: { vanished: 0, unstable: 0, unreadable: 0, symlink_loop: 0, over_limit: 0, stuck: 0 },
      problemExamples: [],
      hashedFiles: 0,
      hashedBytes: 0,
    }) as Observation;

  it('replaces what the targets cover, removes what is gone below them, keeps the rest', () => {
    const base = observation(
      {
        '/etc': dir,
        '/etc/cron.d': dir,
        '/etc/cron.d/a': file('a'),
        '/etc/cron.d/b': file('b'),
        '/etc/passwd': file('c'),
        '/etc/cron.daily': dir,
      },
      ['/etc/cron.d/locked'],
    );
    const partial = observation({ '/etc/cron.d': dir, '/etc/cron.d/a': file('d'), '/etc/cron.hourly': dir });
    const merged = mergeRescan(base, ['/etc/cron.d', '/etc/cron.*'], partial);
    expect([...merged.files.keys()].sort()).toEqual(['/etc', '/etc/cron.d', '/etc/cron.d/a', '/etc/cron.hourly', '/etc/passwd']);
    expect(merged.files.get('/etc/cron.d/a')?.sha256).toBe('d'.repeat(64));
    expect(merged.unreadableDirs).toEqual([]);
    expect(merged.startedAt).toBe(base.startedAt);
  });

  it('takes the running executables a rescan listed again, so the judgment sees them beside the database it read: an image verified before an upgrade replaced its file is outdated, not a mismatch', () => {
    // A binary outside the watched files, running version 1, verified against its package by the
    // judgment of the last scan; the upgrade to version 2 then changes a watched configuration file,
    // whose rescan reads the database again.
    const binary = '/opt/pkg/bin/tool';
    const dpkg = (version: string): DpkgDatabase => {
      const sum = { md5: version.repeat(32), package: 'pkg', key: 'pkg:amd64' };
      return {
        present: true,
        packages: new Map([
          [
            'pkg:amd64',
            { key: 'pkg:amd64', version, state: 'installed', settled: true, fingerprint: `f${version}`, paths: [binary, '/etc/pkg.conf'] },
          ],
        ]),
        checksumOf: (path) => (path === binary ? sum : undefined),
        conffileOf: (path) => (path === '/etc/pkg.conf' ? { ...sum, md5: `c${version}`.padEnd(32, '0') } : undefined),
        ownersOf: (path) => (path === binary || path === '/etc/pkg.conf' ? ['pkg:amd64'] : []),
      };
    };
    // The image's identity leaves the ctime out: unlinking the replaced file moves it.
    const image = (deleted: boolean): RunningObservation => ({
      path: binary,
      deleted,
      pids: [42],
      key: '1:77:100:5',
      sha256: '1'.repeat(64),
      md5: '1'.repeat(32),
    });
    const withRunning = (o: Observation, packages: DpkgDatabase, images: RunningObservation[]): Observation => ({
      ...o,
      packages,
      running: { images, trouble: { otherRoot: 0, unreadable: 0, gone: 0, stuck: 0 } },
    });
    const conf = (version: string) => ({ ...file(version), md5: `c${version}`.padEnd(32, '0') });
    const base = withRunning(observation({ '/etc': dir, '/etc/pkg.conf': conf('1') }), dpkg('1'), [image(false)]);
    const partial = withRunning(observation({ '/etc/pkg.conf': conf('2') }), dpkg('2'), [image(true)]);
    const merged = mergeRescan(base, ['/etc/pkg.conf'], partial);

    const baseline = new Map([
      ['/etc', dir],
      ['/etc/pkg.conf', conf('1')],
    ]);
    const ctx = (packages: DpkgDatabase, verified: readonly string[]): PackageContext => ({
      current: packages,
      recorded: new Map([
        ['pkg:amd64', { version: '1', state: 'installed', fingerprint: 'f1', paths: new Set([binary, '/etc/pkg.conf']) }],
      ]),
      formerHashes: new Map(),
      verifiedImages: new Set(verified),
      operation: { inProgress: false },
      now: 10_000,
      graceSeconds: 900,
    });
    const before = judgeIntegrity(base, baseline, ctx(dpkg('1'), []));
    expect(before.verifiedImages).toEqual(['1:77:100:5']);
    const after = judgeIntegrity(merged, baseline, ctx(dpkg('2'), before.verifiedImages));
    expect(after.findings.map((f) => [f.kind, f.subject['path']])).toEqual([]);
    expect(after.running).toMatchObject({ outdated: 1, mismatched: 0 });
    expect(after.packageRecord?.accepted.map((a) => [a.path, a.reason])).toEqual([['/etc/pkg.conf', 'package_upgrade']]);
    expect(merged.running).toBe(partial.running);

    // A rescan that listed no running executables (running_executables off) keeps the last scan's list.
    expect(mergeRescan(base, ['/etc/pkg.conf'], observation({ '/etc/pkg.conf': conf('2') })).running).toBe(base.running);
  });
});

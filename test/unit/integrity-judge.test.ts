import { describe, expect, it } from 'vitest';
import type { FileState } from '../../src/integrity/file-state.js';
import { judgeIntegrity, type JudgedObservation } from '../../src/integrity/judge.js';
import { compileWatchScope } from '../../src/integrity/watch-scope.js';
import { fileState, sha } from '../helpers/file-states.js';

const file = fileState;

function observed(files: Record<string, FileState>, over: Partial<JudgedObservation> = {}): JudgedObservation {
  return { files: new Map(Object.entries(files)), scope: compileWatchScope(['/usr/bin'], []), unreadableDirs: [], ...over };
}

const summary = (o: JudgedObservation, b?: Record<string, FileState>) =>
  judgeIntegrity(o, b && new Map(Object.entries(b))).findings.map((f) => [f.kind, f.subject, f.severity]);

describe('integrity judgment', () => {
  const baseline = { '/usr/bin': file({ type: 'directory', sha256: undefined }), '/usr/bin/ls': file() };

  it('finds nothing on an unchanged host, even when times and inode moved', () => {
    expect(summary(observed({ ...baseline, '/usr/bin/ls': file({ inode: '99', mtimeNs: '5', ctimeNs: '6' }) }), baseline)).toEqual([]);
  });

  it('reports a content change by hash, and notes an mtime that was put back', () => {
    const o = observed({ ...baseline, '/usr/bin/ls': file({ sha256: sha('b'), ctimeNs: '2000' }) });
    const [finding] = judgeIntegrity(o, new Map(Object.entries(baseline))).findings;
    expect(finding).toMatchObject({ kind: 'content_changed', subject: { path: '/usr/bin/ls' } });
    expect(finding?.message).toMatch(/mtime unchanged/);
  });

  it('reports a content change by size when the file could not be read now', () => {
    const now = file({ size: 101 });
    delete (now as { sha256?: string }).sha256;
    expect(summary(observed({ ...baseline, '/usr/bin/ls': now }), baseline)).toEqual([
      ['content_changed', { path: '/usr/bin/ls' }, 'critical'],
    ]);
  });

  it('names each changed attribute, setuid critical, and nothing for the content when only metadata moved', () => {
    const now = file({ mode: 0o4775, uid: 1000, gid: 50 });
    expect(summary(observed({ ...baseline, '/usr/bin/ls': now }), baseline)).toEqual([
      ['metadata_changed', { path: '/usr/bin/ls', attribute: 'setuid' }, 'critical'],
      ['metadata_changed', { path: '/usr/bin/ls', attribute: 'mode' }, 'warning'],
      ['metadata_changed', { path: '/usr/bin/ls', attribute: 'owner' }, 'warning'],
      ['metadata_changed', { path: '/usr/bin/ls', attribute: 'group' }, 'warning'],
    ]);
  });

  it('reports a file that became a symlink once, as a type change', () => {
    const now = file({ type: 'symlink', target: '/tmp/x', sha256: undefined });
    expect(summary(observed({ ...baseline, '/usr/bin/ls': now }), baseline)).toEqual([
      ['metadata_changed', { path: '/usr/bin/ls', attribute: 'type' }, 'warning'],
    ]);
  });

  it('reports a symlink pointed elsewhere', () => {
    const link = file({ type: 'symlink', target: 'ls', sha256: undefined });
    const b = { ...baseline, '/usr/bin/dir': link };
    expect(summary(observed({ ...b, '/usr/bin/dir': { ...link, target: '/tmp/evil' } }), b)).toEqual([
      ['metadata_changed', { path: '/usr/bin/dir', attribute: 'link_target' }, 'warning'],
    ]);
  });

  it('reports added and removed paths as critical', () => {
    const o = observed({ '/usr/bin': baseline['/usr/bin'], '/usr/bin/su2': file({ mode: 0o4755 }) });
    expect(summary(o, baseline)).toEqual([
      ['added', { path: '/usr/bin/su2' }, 'critical'],
      ['removed', { path: '/usr/bin/ls' }, 'critical'],
    ]);
  });

  it('does not call paths removed that are no longer watched, excluded, or below a directory it could not list', () => {
    const b = { ...baseline, '/opt/app/run': file(), '/usr/bin/sub/x': file() };
    const o = observed({ ...baseline }, { unreadableDirs: ['/usr/bin/sub'] });
    expect(summary(o, b)).toEqual([]);
    const excluding = observed({ '/usr/bin': baseline['/usr/bin'] }, { scope: compileWatchScope(['/usr/bin'], ['/usr/bin/l*']) });
    expect(summary(excluding, baseline)).toEqual([]);
  });

  it('a glob the walk could not expand hides the removal of what it could match, not of files a root listed beside it', () => {
    const scope = compileWatchScope(['/etc/passwd', '/etc/ssh', '/etc/cron.*'], []);
    const directory = file({ type: 'directory', sha256: undefined });
    const b = {
      '/etc/passwd': file(),
      '/etc/ssh': directory,
      '/etc/ssh/sshd_config': file(),
      '/etc/cron.d': directory,
      '/etc/cron.d/job': file(),
    };
    const o = observed({ '/etc/ssh': directory }, { scope, unexpandedGlobs: ['/etc/cron.*'] });
    expect(summary(o, b)).toEqual([
      ['removed', { path: '/etc/passwd' }, 'critical'],
      ['removed', { path: '/etc/ssh/sshd_config' }, 'critical'],
    ]);
  });

  it('without a baseline, reports neither added nor removed', () => {
    expect(summary(observed({ '/usr/bin/new': file() }))).toEqual([]);
  });

  it('checks files against the package database, with or without a baseline', () => {
    const packages = {
      checksumOf: (p: string) => (p === '/usr/bin/ls' ? { md5: 'f'.repeat(32), package: 'coreutils', key: 'coreutils:amd64' } : undefined),
    };
    const good = observed({ '/usr/bin/ls': file({ md5: 'f'.repeat(32) }) }, { packages });
    expect(judgeIntegrity(good, undefined).packageFiles).toEqual({ verified: 1, mismatched: 0 });
    const bad = observed({ '/usr/bin/ls': file({ md5: 'e'.repeat(32) }) }, { packages });
    expect(summary(bad)).toEqual([['package_mismatch', { path: '/usr/bin/ls', package: 'coreutils' }, 'critical']]);
  });

  it('compares running images with the baseline first, then the package database, and counts the rest', () => {
    const packages = {
      checksumOf: (p: string) => (p === '/usr/sbin/cron' ? { md5: 'c'.repeat(32), package: 'cron', key: 'cron:amd64' } : undefined),
    };
    const running = {
      images: [
        { path: '/usr/bin/ls', deleted: true, pids: [42], sha256: sha('b') },
        { path: '/usr/bin/ls', deleted: false, pids: [43], sha256: sha('a') },
        { path: '/usr/sbin/cron', deleted: false, pids: [7], sha256: sha('c'), md5: 'd'.repeat(32) },
        { path: '/tmp/x', deleted: false, pids: [8], sha256: sha('d') },
        { path: '/usr/bin/gone', deleted: false, pids: [9], problem: 'unreadable' },
      ],
    };
    const judgment = judgeIntegrity(observed({ ...baseline }, { running, packages }), new Map(Object.entries(baseline)));
    expect(judgment.findings.map((f) => [f.kind, f.subject, f.severity])).toEqual([
      ['running_binary_mismatch', { path: '/usr/bin/ls', expected: 'baseline', deleted: true }, 'critical'],
      ['running_binary_mismatch', { path: '/usr/sbin/cron', expected: 'package', deleted: false }, 'critical'],
    ]);
    expect(judgment.findings[0]?.message).toMatch(/^process 42 runs a replaced or deleted \/usr\/bin\/ls/);
    expect(judgment.running).toEqual({ verified: 1, mismatched: 2, unverifiable: 1, unreadable: 1, outdated: 0 });
  });
});

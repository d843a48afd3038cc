import { describe, expect, it } from 'vitest';
import { authFindings } from '../../src/auth/judge.js';
import type { JournalFile, JournalSnapshot } from '../../src/auth/journal-files.js';
import { judgeFileChange, judgeJournalChange, needsEvidence, TamperingLog } from '../../src/auth/log-tampering.js';
import { FailureHistory } from '../../src/auth/success-after-failures.js';
import { presentFindings } from '../../src/findings/redact.js';
import type { FileChange } from '../../src/tail/file-follower.js';

const minute = 60_000;
const t0 = Date.UTC(2024, 5, 1, 12);

describe('a login after repeated failures', () => {
  const policy = { failures: 5, windowMs: 10 * minute };

  it('is guessed when its address failed N times within the window before it, whatever the users tried', () => {
    const history = new FailureHistory(policy);
    for (const user of ['root', 'admin', 'alice', 'oracle'])
      history.failed('sshd', user, user === 'alice' || user === 'root' ? 'regular' : 'invalid', '203.0.113.9', 1, t0 + minute);
    expect(history.succeeded('sshd', 'alice', 'regular', '203.0.113.9', t0 + 2 * minute)).toBeUndefined();
    history.failed('sshd', 'test', 'invalid', '203.0.113.9', 2, t0 + 3 * minute);
    // The last N failure times are kept: N is what it can tell.
    expect(history.succeeded('sshd', 'alice', 'regular', '203.0.113.9', t0 + 4 * minute)).toMatchObject({
      by: 'address',
      failures: 5,
      user: 'alice',
      address: '203.0.113.9',
    });
    // Its failures went with the login they were reported with.
    expect(history.succeeded('sshd', 'alice', 'regular', '203.0.113.9', t0 + 5 * minute)).toBeUndefined();
  });

  it('is guessed when its user failed N times from anywhere, across addresses (distributed guessing)', () => {
    const history = new FailureHistory(policy);
    for (let i = 0; i < 5; i++) history.failed('su', 'root', 'root', undefined, 1, t0 + i * minute);
    expect(history.succeeded('su', 'root', 'root', undefined, t0 + 6 * minute)).toMatchObject({ by: 'user', failures: 5 });
  });

  it('is not guessed when the failures are older than the window, or fewer, or the judgment is off', () => {
    const history = new FailureHistory(policy);
    history.failed('sshd', 'root', 'root', '198.51.100.1', 5, t0);
    expect(history.succeeded('sshd', 'root', 'root', '198.51.100.1', t0 + 11 * minute)).toBeUndefined();
    history.failed('sshd', 'bob', 'regular', '198.51.100.2', 4, t0);
    expect(history.succeeded('sshd', 'bob', 'regular', '198.51.100.2', t0 + minute)).toBeUndefined();
    const off = new FailureHistory({ failures: 0, windowMs: minute });
    expect(off.enabled).toBe(false);
  });

  it('a person who mistypes starts afresh after logging in; names without an account are not kept for sshd', () => {
    const history = new FailureHistory(policy);
    history.failed('sshd', 'alice', 'regular', '192.0.2.1', 3, t0);
    expect(history.succeeded('sshd', 'alice', 'regular', '192.0.2.7', t0 + minute)).toBeUndefined();
    history.failed('sshd', 'alice', 'regular', '192.0.2.1', 3, t0 + 2 * minute);
    expect(history.succeeded('sshd', 'alice', 'regular', '192.0.2.7', t0 + 3 * minute)).toBeUndefined();
    // 'ghost' has no account: sshd cannot log it in, so its failures are not kept; a mail server's own accounts are.
    history.failed('sshd', 'ghost', 'invalid', undefined, 9, t0);
    expect(history.succeeded('sshd', 'ghost', 'invalid', undefined, t0 + minute)).toBeUndefined();
    history.failed('dovecot', 'sales@example.org', 'invalid', undefined, 9, t0);
    expect(history.succeeded('dovecot', 'sales@example.org', 'invalid', undefined, t0 + minute)).toMatchObject({ by: 'user' });
  });

  it('keeps bounded memory whatever addresses a flood uses, and still sees a guesser failing within every 8,192 other addresses', () => {
    const history = new FailureHistory(policy);
    for (let i = 0; i < 100_000; i++) {
      history.failed('sshd', undefined, 'invalid', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1, t0);
      if (i % 8000 === 0) history.failed('sshd', undefined, 'invalid', '203.0.113.77', 1, t0);
    }
    expect(history.succeeded('sshd', 'alice', 'regular', '203.0.113.77', t0 + minute)).toMatchObject({ by: 'address', failures: 5 });
    // An address that failed before 16,384 others did is forgotten.
    expect(history.succeeded('sshd', 'alice', 'regular', '10.0.0.1', t0 + minute)).toBeUndefined();
  });

  it('is a critical finding whose user and address are redacted unless details are shown', () => {
    const findings = authFindings({
      sources: [],
      guessedLogins: [
        { service: 'sshd', user: 'alice', userClass: 'regular', address: '203.0.113.9', by: 'address', failures: 6, at: t0, seenAt: t0 },
      ],
    });
    expect(findings.map((f) => [f.kind, f.severity])).toEqual([['success_after_failures', 'critical']]);
    expect(findings[0]!.message).toBe(
      'alice logged in to sshd from 203.0.113.9 at 2024-06-01T12:00:00.000Z after at least 6 failed attempts from that address within the window before it: a guessed password, or a stolen one, worked',
    );
    const [redacted] = presentFindings(findings, false);
    expect(redacted!.subject).toMatchObject({ service: 'sshd', user: '[redacted]', remote_address: '[redacted]' });
    expect(redacted!.message).not.toMatch(/alice|203\.0\.113\.9/);
    expect(presentFindings(findings, true)[0]!.message).toContain('203.0.113.9');
  });
});

describe('an auth log changed outside a rotation', () => {
  const change = (over: Partial<FileChange>): FileChange => ({
    kind: 'moved',
    path: '/var/log/auth.log',
    device: '2049',
    inode: '77',
    fingerprint: { length: 80, sha256: 'f'.repeat(64) },
    offset: 5000,
    links: 1,
    copyFound: false,
    atPath: 'file',
    ...over,
  });
  const none = { compressedCopy: undefined };
  const compressed = { compressedCopy: '/var/log/auth.log.1.gz' };

  it("logrotate's rename (and create), its copytruncate, and either compressed at once stay quiet", () => {
    expect(judgeFileChange(change({ kind: 'moved', links: 1 }), none)).toBeUndefined();
    expect(judgeFileChange(change({ kind: 'moved', links: 1, atPath: 'missing' }), none)).toBeUndefined();
    expect(judgeFileChange(change({ kind: 'truncated', copyFound: true }), none)).toBeUndefined();
    expect(judgeFileChange(change({ kind: 'truncated', copyFound: false }), compressed)).toBeUndefined();
    expect(judgeFileChange(change({ kind: 'moved', links: 0 }), compressed)).toBeUndefined();
  });

  it('a truncation by hand, a deletion, a replacement and a link to /dev/null are tampering', () => {
    expect(judgeFileChange(change({ kind: 'truncated' }), none)?.kind).toBe('truncated');
    expect(judgeFileChange(change({ links: 0, atPath: 'missing' }), none)?.kind).toBe('deleted');
    expect(judgeFileChange(change({ links: 0, atPath: 'file' }), none)?.kind).toBe('replaced');
    expect(judgeFileChange(change({ links: 1, atPath: 'not_regular' }), compressed)?.kind).toBe('not_regular');
  });

  it('looks for a compressed copy only when the answer depends on one', () => {
    expect(needsEvidence(change({ kind: 'truncated', copyFound: true }))).toBe(false);
    expect(needsEvidence(change({ kind: 'truncated', copyFound: false }))).toBe(true);
    expect(needsEvidence(change({ links: 1 }))).toBe(false);
    expect(needsEvidence(change({ links: 0 }))).toBe(true);
    expect(needsEvidence(change({ links: 0, atPath: 'not_regular' }))).toBe(false);
  });

  it("counts one tampering per file however often the follower tells of it, and lists it for the policy's time", () => {
    let now = t0;
    const log = new TamperingLog(() => now);
    const t = judgeFileChange(change({ links: 0, atPath: 'missing' }), none)!;
    log.record('/var/log/auth.log', t, '2049:77');
    log.record('/var/log/auth.log', { ...t, kind: 'replaced' }, '2049:77');
    expect(log.count('/var/log/auth.log', 'deleted')).toBe(1);
    expect(log.count('/var/log/auth.log', 'replaced')).toBe(0);
    expect(
      authFindings({ sources: [], tamperings: log.recent(60 * minute) }).map((f) => [f.kind, f.severity, f.subject.tampering]),
    ).toEqual([['log_tampered', 'critical', 'deleted']]);
    now += 61 * minute;
    expect(log.recent(60 * minute)).toEqual([]);
    expect(log.count('/var/log/auth.log', 'deleted')).toBe(1);
  });
});

describe('journal files removed', () => {
  const file = (path: string, over: Partial<JournalFile> = {}): JournalFile => ({
    path,
    active: !path.includes('@'),
    runtime: false,
    newestEntryMs: undefined,
    ...over,
  });
  const snapshot = (files: Record<string, JournalFile>, persistent = true): JournalSnapshot => ({
    files: new Map(Object.entries(files)),
    persistent,
  });
  const day = 24 * 60 * minute;
  const dir = '/var/log/journal/0d1e';
  const active = file(`${dir}/system.journal`);
  const old1 = file(`${dir}/system@a-1-1.journal`, { newestEntryMs: t0 - 30 * day });
  const old2 = file(`${dir}/system@a-2-2.journal`, { newestEntryMs: t0 - 20 * day });
  const fresh = file(`${dir}/system@a-3-3.journal`, { newestEntryMs: t0 - 2 * minute });

  it("journald's rotation (same inode, new name) and its vacuum of the oldest archive stay quiet", () => {
    const before = snapshot({ '1:1': active, '1:2': old1, '1:3': old2 });
    const rotated = snapshot({
      '1:1': { ...active, path: `${dir}/system@a-4-4.journal`, active: false },
      '1:9': active,
      '1:2': old1,
      '1:3': old2,
    });
    expect(judgeJournalChange(before, rotated, t0, day)).toEqual([]);
    expect(judgeJournalChange(before, snapshot({ '1:1': active, '1:3': old2 }), t0, day)).toEqual([]);
  });

  it('an active file removed, an archive with recent entries removed, or every archive at once, is tampering', () => {
    const before = snapshot({ '1:1': active, '1:2': old1, '1:3': old2, '1:4': fresh });
    expect(judgeJournalChange(before, snapshot({ '1:2': old1, '1:3': old2, '1:4': fresh }), t0, day).map((t) => t.detail)).toEqual([
      'the active journal file was removed',
    ]);
    expect(judgeJournalChange(before, snapshot({ '1:1': active, '1:2': old1, '1:3': old2 }), t0, day).map((t) => t.path)).toEqual([
      fresh.path,
    ]);
    const allOld = snapshot({ '1:1': active, '1:2': old1, '1:3': old2 });
    expect(judgeJournalChange(allOld, snapshot({ '1:1': active }), t0, day).map((t) => t.detail)).toEqual([
      'all 2 archived journal files were removed at once',
    ]);
  });

  it('the volatile journal moved into the persistent one when journald flushes stays quiet', () => {
    const runtime = file('/run/log/journal/0d1e/system.journal', { runtime: true });
    expect(judgeJournalChange(snapshot({ '2:1': runtime }, false), snapshot({ '1:1': active }, true), t0, day)).toEqual([]);
    expect(judgeJournalChange(snapshot({ '2:1': runtime }, false), snapshot({}, false), t0, day)).toHaveLength(1);
  });
});

describe('names an attacker chooses', () => {
  it("a PAM service or method named like an object's own property counts as any unknown one", async () => {
    const { classifyMessage } = await import('../../src/auth/classify.js');
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(
        classifyMessage(
          'x',
          `pam_unix(${name}:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=192.0.2.1  user=alice`,
        ),
      ).toMatchObject({ service: 'other', role: 'opens', reason: 'pam_failure' });
      expect(classifyMessage('sshd', `Failed ${name} for alice from 192.0.2.1 port 22 ssh2`)).toMatchObject({ reason: 'other_method' });
      expect(classifyMessage('sshd', `Accepted ${name} for alice from 192.0.2.1 port 22 ssh2`)).toMatchObject({ method: 'other_method' });
    }
  });
});

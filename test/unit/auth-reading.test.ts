import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttemptTracker } from '../../src/auth/attempts.js';
import { classifyMessage } from '../../src/auth/classify.js';
import { DistinctCount } from '../../src/auth/distinct-count.js';
import { authFindings } from '../../src/auth/judge.js';
import { parseJournalLine } from '../../src/auth/journal-entry.js';
import { journalctlArgs } from '../../src/auth/journald-follower.js';
import { AuthPipeline } from '../../src/auth/pipeline.js';
import { authServices, type AuthService } from '../../src/auth/patterns.js';
import { RecentFailures } from '../../src/auth/recent-failures.js';
import { positionFile, resolveSources, type HostProbe } from '../../src/auth/sources.js';
import { idsPositionFile } from '../../src/ids/sources.js';
import { journalStamp, noStamp, parseSyslogLine } from '../../src/auth/syslog-line.js';
import { logTime } from '../../src/auth/log-time.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { LineSplitter } from '../../src/tail/line-splitter.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'auth');

describe('the line splitter', () => {
  it('gives the same lines however the bytes are cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 40 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1 }),
        (lines, cuts) => {
          const clean = lines.map((l) => l.replace(/[\r\n]/g, ''));
          const bytes = Buffer.from(clean.map((l) => l + '\n').join(''));
          const splitter = new LineSplitter(1000);
          const got: string[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            got.push(...splitter.push(bytes.subarray(at, at + n)).lines);
            at += n;
          }
          expect(got).toEqual(clean);
          expect(splitter.pendingBytes).toBe(0);
        },
      ),
    );
  });

  it('cuts a 10 MB line at the limit, once, and keeps no more than the limit in memory', () => {
    const splitter = new LineSplitter(16 * 1024);
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    const lines: string[] = [];
    let truncated = 0;
    for (let i = 0; i < 40; i++) {
      const out = splitter.push(chunk);
      lines.push(...out.lines);
      truncated += out.truncated;
      expect(splitter.pendingBytes).toBeLessThanOrEqual(16 * 1024);
    }
    const end = splitter.push(Buffer.from('tail of the long line\nnext line\n'));
    lines.push(...end.lines);
    expect(truncated).toBe(1);
    expect(lines.map((l) => l.length)).toEqual([16 * 1024, 9]);
    expect(lines[1]).toBe('next line');
  });

  it('cuts an overlong line inside one chunk too, and decodes invalid UTF-8 and drops CR', () => {
    const splitter = new LineSplitter(8);
    const out = splitter.push(Buffer.concat([Buffer.from('0123456789abc\nok\r\n'), Buffer.from([0xff, 0xfe, 0x41, 0x0a])]));
    expect(out.lines).toEqual(['01234567', 'ok', '\ufffd\ufffdA']);
    expect(out.truncated).toBe(1);
  });

  it('holds a partial line until its newline, and flushes it when the file will not grow', () => {
    const splitter = new LineSplitter(100);
    expect(splitter.push(Buffer.from('first\nsec')).lines).toEqual(['first']);
    expect(splitter.pendingBytes).toBe(3);
    expect(splitter.flush().lines).toEqual(['sec']);
  });
});

describe('syslog lines', () => {
  it('parses RFC 3164, RFC 5424 and ISO-8601 headers, with or without PRI', () => {
    const want = { program: 'sshd', pid: '42', message: 'Failed password for root from 192.0.2.1 port 22 ssh2' };
    expect(parseSyslogLine('Jan  5 10:00:00 web1 sshd[42]: Failed password for root from 192.0.2.1 port 22 ssh2')).toMatchObject({
      ...want,
      stampAt: 0,
    });
    expect(parseSyslogLine('<38>Jan 15 10:00:00 web1 sshd[42]: Failed password for root from 192.0.2.1 port 22 ssh2')).toMatchObject({
      ...want,
      stampAt: 4,
    });
    expect(
      parseSyslogLine('2024-01-05T10:00:00.123456+01:00 web1 sshd[42]: Failed password for root from 192.0.2.1 port 22 ssh2'),
    ).toMatchObject(want);
    expect(
      parseSyslogLine('<38>1 2024-01-05T10:00:00Z web1 sshd 42 - - Failed password for root from 192.0.2.1 port 22 ssh2'),
    ).toMatchObject({ ...want, stampAt: 6 });
    expect(
      parseSyslogLine(
        '<38>1 2024-01-05T10:00:00Z web1 sshd 42 ID47 [meta a="x\\]y"][o b="c"] \ufeffFailed password for root from 192.0.2.1 port 22 ssh2',
      ),
    ).toMatchObject(want);
    expect(parseSyslogLine('<38>1 2024-01-05T10:00:00Z web1 sudo - - - msg')).toMatchObject({
      program: 'sudo',
      pid: undefined,
      message: 'msg',
    });
    expect(parseSyslogLine('<38>1 - web1 sudo - - - msg')).toMatchObject({ program: 'sudo', stampAt: noStamp });
  });

  it('refuses what is not a syslog line', () => {
    for (const junk of [
      '',
      'hello',
      '\u0000\u0001\u0002binary',
      'Foo  5 10:00:00 web1 x: y',
      '2024-01-05T10:00:00Z',
      'Jan  5 10:00:00 web1 no colon here',
      '<999999>1 x',
    ]) {
      expect(parseSyslogLine(junk)).toBeUndefined();
    }
  });
});

describe('attempts', () => {
  it('forgets the oldest connections beyond its bound', () => {
    const tracker = new AttemptTracker(100);
    const invalid = classifyMessage('sshd', 'Invalid user a from 192.0.2.1 port 1')!;
    for (let i = 0; i < 1000; i++) tracker.attempts(`c${i}`, invalid);
    expect(tracker.size).toBe(100);
  });
});

describe('the journal JSON reader, on recorded `journalctl -o json` output', () => {
  const lines = readFileSync(join(fixtures, 'journal.json'), 'utf8').trim().split('\n');

  it('takes program, pid and message, decodes byte-array messages, and skips null ones', () => {
    const parsed = lines.map(parseJournalLine);
    expect(parsed.every((p) => p.kind !== 'not_json')).toBe(true);
    const entries = parsed.flatMap((p) => (p.kind === 'entry' ? [p.entry] : []));
    expect(entries).toHaveLength(12);
    expect(entries[0]!.record).toMatchObject({
      program: 'sshd',
      pid: '7001',
      message: 'Invalid user admin from 198.51.100.7 port 40022',
      stampAt: journalStamp,
    });
    // The entry's time is journald's __REALTIME_TIMESTAMP, in microseconds.
    expect(logTime(entries[0]!.record, Date.now())).toBe(
      Number((JSON.parse(lines[0]!) as { __REALTIME_TIMESTAMP: string }).__REALTIME_TIMESTAMP) / 1000,
    );
    expect(entries[7]!.record.message).toBe('Failed password for invalid user \ufffd\ufffd from 203.0.113.11 port 51123 ssh2');
    expect(entries.find((e) => e.record.message.startsWith('FAILED SU'))!.record.program).toBe('su');
    expect(parsed[8]).toMatchObject({ kind: 'no_message' });
    expect(entries.every((e) => e.cursor?.startsWith('s='))).toBe(true);
  });

  it('counts the recorded entries as attempts, like the same lines from a file', () => {
    const pipeline = new AuthPipeline((name) => (name === 'root' ? 'root' : name === 'alice' ? 'regular' : 'invalid'));
    for (const line of lines) {
      const parsed = parseJournalLine(line);
      if (parsed.kind === 'entry') pipeline.record('journald', parsed.entry.record);
    }
    expect(pipeline.failureRows()).toEqual([
      { labels: { service: 'sshd', reason: 'password', user_class: 'root' }, value: 1 },
      { labels: { service: 'sshd', reason: 'password', user_class: 'invalid' }, value: 2 },
      { labels: { service: 'sshd', reason: 'invalid_user', user_class: 'invalid' }, value: 1 },
      { labels: { service: 'sudo', reason: 'incorrect_password', user_class: 'regular' }, value: 3 },
      { labels: { service: 'su', reason: 'password', user_class: 'root' }, value: 1 },
    ]);
    expect(pipeline.successRows()).toEqual([{ labels: { service: 'sshd', method: 'publickey', user_class: 'regular' }, value: 1 }]);
  });

  it("counts each daemon's failure from recorded entries, written to syslog or to stderr under its unit, under its service", () => {
    const daemons = readFileSync(join(fixtures, 'journal-daemons.json'), 'utf8').trim().split('\n');
    const pipeline = new AuthPipeline(() => 'regular');
    const transports = new Set<string>();
    for (const line of daemons) {
      const parsed = parseJournalLine(line);
      if (parsed.kind !== 'entry') throw new Error(`not an entry: ${line}`);
      transports.add((JSON.parse(line) as { _TRANSPORT: string })._TRANSPORT);
      pipeline.record('journald', parsed.entry.record);
    }
    expect([...transports].sort()).toEqual(['stdout', 'syslog']);
    const byService = new Map(pipeline.failureRows().map((r) => [r.labels.service, r.value]));
    // Every service but the four already in journal.json (sshd, sudo, su, login): one attempt each.
    const others = authServices.filter((s) => !['sshd', 'sudo', 'su', 'login'].includes(s));
    expect(Object.fromEntries(byService)).toEqual(Object.fromEntries(others.map((s) => [s, 1])));
    expect(pipeline.source('journald').matched).toBe(daemons.length);
  });

  it('reports what is not JSON', () => {
    expect(parseJournalLine('not json').kind).toBe('not_json');
    expect(parseJournalLine('[1,2]').kind).toBe('not_json');
    expect(parseJournalLine('{"MESSAGE":[999]}').kind).toBe('no_message');
  });

  it('asks journalctl for JSON after the cursor, from the auth facilities or the identifiers', () => {
    const base = { path: undefined, rootfs: '/', identifiers: ['sshd', 'sudo'], startAt: 'end' as const };
    expect(journalctlArgs(base, undefined)).toEqual([
      '--follow',
      '--output=json',
      '--output-fields=MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID,_COMM',
      '--all',
      '--no-pager',
      '--quiet',
      '--lines=0',
      'SYSLOG_IDENTIFIER=sshd',
      'SYSLOG_IDENTIFIER=sudo',
      '+',
      'SYSLOG_FACILITY=4',
      'SYSLOG_FACILITY=10',
    ]);
    // Every entry after the cursor, not the 10 that --follow shows by default.
    expect(journalctlArgs({ ...base, startAt: 'end' }, 's=abc;i=1')).toEqual(
      expect.arrayContaining(['--after-cursor=s=abc;i=1', '--lines=all']),
    );
    expect(journalctlArgs({ ...base, startAt: 'end' }, 's=abc;i=1')).not.toContain('--lines=0');
    expect(journalctlArgs({ ...base, rootfs: '/host' }, undefined)).toContain('--root=/host');
  });
});

describe('distinct failing sources', () => {
  it('is exact for a few addresses and within a few percent for many', () => {
    const few = new DistinctCount();
    for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1']) few.add(a);
    expect(DistinctCount.estimate([few])).toBe(3);
    const many = new DistinctCount();
    for (let i = 0; i < 50_000; i++) many.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(Math.abs(DistinctCount.estimate([many]) - 50_000) / 50_000).toBeLessThan(0.1);
  });

  it('windows: an address counts for 5 minutes in the 5m window and 15 in the other', () => {
    let now = 1_000_000_000;
    const recent = new RecentFailures(() => now, 8);
    recent.add('sshd', '192.0.2.1', 1);
    recent.add('sshd', '192.0.2.2', 4);
    recent.add('sudo', undefined, 2);
    expect(recent.summary()).toMatchObject({
      failures5m: { sshd: 5, sudo: 2, su: 0, login: 0, other: 0, dovecot: 0 },
      distinctSources5m: 2,
      distinctSources15m: 2,
    });
    expect(recent.topSources(1)).toEqual([{ address: '192.0.2.2', failures: 4 }]);
    now += 6 * 60_000;
    expect(recent.summary()).toMatchObject({ failures5m: { sshd: 0 }, distinctSources5m: 0, distinctSources15m: 2 });
    now += 10 * 60_000;
    expect(recent.summary().distinctSources15m).toBe(0);
  });
});

describe('auth findings', () => {
  const quiet = {
    failures5m: Object.fromEntries(authServices.map((s) => [s, 0])) as Record<AuthService, number>,
    distinctSources5m: 0,
    distinctSources15m: 0,
  };

  it('a quiet host with readable sources has none', () => {
    expect(authFindings({ sources: [{ id: '/var/log/auth.log', type: 'file', health: 'ok', reason: undefined }], recent: quiet })).toEqual(
      [],
    );
  });

  it('reports an unreadable source as a warning and recent failures per service as info', () => {
    const findings = authFindings({
      sources: [{ id: '/var/log/auth.log', type: 'file', health: 'missing', reason: 'ENOENT' }],
      recent: { ...quiet, failures5m: { ...quiet.failures5m, sshd: 12 }, distinctSources5m: 3 },
    });
    expect(findings.map((f) => [f.kind, f.severity, f.subject])).toEqual([
      ['source_unavailable', 'warning', { source: '/var/log/auth.log', type: 'file' }],
      ['recent_failures', 'info', { service: 'sshd' }],
    ]);
    expect(findings[1]!.message).toBe(
      '12 sshd authentication failures in the last 5 minutes, from about 3 source addresses (all services)',
    );
  });
});

describe('auth sources', () => {
  const probe = (files: string[], journal: boolean): HostProbe => ({
    fileExists: (p) => files.includes(p),
    journalAvailable: () => journal,
  });
  const policy = (yaml: string) => parsePolicy(yaml, 'p.yml').policy.auth;

  it('detects auth.log and secure, else the journal, else nothing', () => {
    expect(resolveSources(policy(''), '/', probe(['/var/log/auth.log'], true)).map((s) => s.id)).toEqual(['/var/log/auth.log']);
    expect(resolveSources(policy(''), '/', probe(['/var/log/secure'], true)).map((s) => s.id)).toEqual(['/var/log/secure']);
    expect(resolveSources(policy(''), '/', probe([], true)).map((s) => [s.type, s.id])).toEqual([['journald', 'journald']]);
    expect(resolveSources(policy(''), '/', probe([], false))).toEqual([]);
  });

  it('takes the policy sources as written, under --path.rootfs', () => {
    const sources = resolveSources(
      policy('auth:\n  sources:\n    - type: file\n      path: /srv/log/auth.log\n      start_at: beginning\n    - type: journald\n'),
      '/host',
      probe([], false),
    );
    expect(sources).toMatchObject([
      { type: 'file', id: '/srv/log/auth.log', path: '/host/srv/log/auth.log', startAt: 'beginning' },
      { type: 'journald', id: 'journald', path: undefined, startAt: 'end' },
    ]);
  });

  it('refuses a file source without a path, and a source listed twice', () => {
    expect(() => parsePolicy('auth:\n  sources:\n    - type: file\n', 'p.yml')).toThrow(
      /auth.sources\[0\].path: a file source needs a path/,
    );
    expect(() => parsePolicy('auth:\n  sources:\n    - type: journald\n    - type: journald\n', 'p.yml')).toThrow(
      /auth.sources\[1\]: journald source \(system journal\) is listed twice/,
    );
  });
});

describe('counters a rule can rate from the first burst', () => {
  it('every (service, reason) and (service, method) the corpus counts is exported at 0 from the start', async () => {
    const { failureLabelPairs, successLabelPairs } = await import('../../src/auth/patterns.js');
    const { AuthPipeline } = await import('../../src/auth/pipeline.js');
    const failures = new Set(failureLabelPairs().map((p) => `${p.service}/${p.reason}`));
    const successes = new Set(successLabelPairs().map((p) => `${p.service}/${p.method}`));
    const pipeline = new AuthPipeline(() => 'regular');
    for (const file of ['corpus-rfc3164.log', 'corpus-rfc5424.log', 'corpus-iso8601.log']) {
      const lines = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'auth', file), 'utf8').split('\n');
      pipeline.syslogLines(
        file,
        lines.filter((l) => l && !l.startsWith('#')),
      );
    }
    const counted = pipeline.failureRows().map((r) => `${r.labels.service}/${r.labels.reason}`);
    expect(counted.length).toBeGreaterThan(10);
    expect(counted.filter((pair) => !failures.has(pair))).toEqual([]);
    const logins = pipeline.successRows().map((r) => `${r.labels.service}/${r.labels.method}`);
    expect(logins.length).toBeGreaterThan(2);
    expect(logins.filter((pair) => !successes.has(pair))).toEqual([]);
  });
});

describe('position files', () => {
  it('keep the names earlier versions saved positions under, so an upgrade resumes where it stopped', () => {
    const digest = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 12);
    expect(
      positionFile('/state', { type: 'file', id: '/var/log/auth.log', path: '/var/log/auth.log', startAt: 'end', configured: false }),
    ).toBe(`/state/auth/var_log_auth.log-${digest('file:/var/log/auth.log')}.json`);
    expect(
      idsPositionFile('/state', {
        id: '/var/log/suricata/eve.json',
        tool: 'suricata',
        path: '/var/log/suricata/eve.json',
        startAt: 'end',
        maxSilenceSeconds: 0,
      }),
    ).toBe(`/state/ids/var_log_suricata_eve.json-${digest('suricata:/var/log/suricata/eve.json')}.json`);
  });
});

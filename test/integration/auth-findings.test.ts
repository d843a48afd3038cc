import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authServices } from '../../src/auth/patterns.js';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';

interface FindingsDocument {
  findings: { collector: string; kind: string; severity: string; subject: Record<string, string>; message: string }[];
}

function policyFor(dir: string, log: string): string {
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${log}\n`);
  return policy;
}

describe('auth findings', () => {
  it('a burst of failed logins shows on the very next scrape, per service', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policyFor(dir, log),
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    const quiet = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    expect(quiet.findings).toEqual([]);
    appendFileSync(
      log,
      [
        'Jan  5 10:00:00 web1 sshd[501]: Failed password for root from 203.0.113.9 port 40000 ssh2',
        'Jan  5 10:00:01 web1 sshd[501]: Failed password for root from 203.0.113.9 port 40000 ssh2',
        'Jan  5 10:00:02 web1 sudo:   nobody : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh',
        // Garbage between them: counted as unparsed, and the lines around it still count.
        '\u0000\u0007 \ufffd not a log line',
        'Jan  5 10:00:03',
        'Jan  5 10:00:04 web1 sshd[502]: Failed password for root from 203.0.113.9 port 40001 ssh2',
        '',
      ].join('\n'),
    );
    const burst = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    expect(burst.findings.map((f) => [f.kind, f.severity, f.subject])).toEqual([
      ['recent_failures', 'info', { service: 'sshd' }],
      ['recent_failures', 'info', { service: 'sudo' }],
    ]);
    expect(burst.findings[0]!.message).toBe(
      '3 sshd authentication failures in the last 5 minutes, from about 1 source address (all services)',
    );
    const samples = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
    expect(sampleValue(samples, 'hostguard_auth_lines_read_total', { source: log })).toBe(6);
    expect(sampleValue(samples, 'hostguard_auth_lines_unparsed_total', { source: log, reason: 'not_syslog' })).toBe(2);
  });

  it('exposes the busiest failing source addresses only when asked to (auth.top_sources), and their distinct count always', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  top_sources: 2\n  sources:\n    - type: file\n      path: ${log}\n`);
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    const failed = (ip: string, pid: number) => `Jan  5 10:00:00 web1 sshd[${pid}]: Failed password for root from ${ip} port 40000 ssh2\n`;
    appendFileSync(
      log,
      failed('203.0.113.1', 1) +
        failed('203.0.113.1', 2) +
        failed('203.0.113.1', 3) +
        failed('203.0.113.2', 4) +
        failed('203.0.113.2', 5) +
        failed('203.0.113.3', 6),
    );
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(body.split('\n').filter((l) => l.startsWith('hostguard_auth_top_source_failures{'))).toEqual([
      'hostguard_auth_top_source_failures{address="203.0.113.1"} 3',
      'hostguard_auth_top_source_failures{address="203.0.113.2"} 2',
    ]);
    expect(sampleValue(body, 'hostguard_auth_failing_sources', { window: '5m' })).toBe(3);
  });

  it('check reports an unreadable source and exits 1, without reading or moving any position', () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    const missing = runCli([
      '--state.dir',
      state,
      '--config.file',
      policyFor(dir, join(dir, 'gone.log')),
      '--collector.disable-defaults',
      '--collector.auth',
      'check',
      '--format',
      'json',
    ]);
    expect(missing.code).toBe(1);
    expect((JSON.parse(missing.stdout) as FindingsDocument).findings).toMatchObject([
      { collector: 'auth', kind: 'source_unavailable', severity: 'warning', subject: { source: join(dir, 'gone.log'), type: 'file' } },
    ]);

    const log = join(dir, 'auth.log');
    writeFileSync(log, 'Jan  5 10:00:00 web1 sshd[501]: Failed password for root from 203.0.113.9 port 40000 ssh2\n');
    const readable = runCli([
      '--state.dir',
      state,
      '--config.file',
      policyFor(dir, log),
      '--collector.disable-defaults',
      '--collector.auth',
      'check',
    ]);
    expect(readable.code).toBe(0);
    expect(existsSync(join(state, 'auth'))).toBe(false);
  });
});

/** The annotated failure lines of the fixtures, one per service: its first line that adds attempts for that service. */
function oneFailurePerService(): { service: string; line: string; attempts: number }[] {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'auth');
  const picked = new Map<string, { service: string; line: string; attempts: number }>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.log') && !f.startsWith('corpus-'))
    .sort()) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    lines.forEach((text, i) => {
      if (!text.startsWith('# expect: {')) return;
      const expect = JSON.parse(text.slice('# expect: '.length)) as { service: string; attempts?: number };
      // A line that counts alone, not one paired with the line before it.
      if ((expect.attempts ?? 0) > 0 && !picked.has(expect.service) && !lines[i - 1]!.startsWith('# expect'))
        picked.set(expect.service, { service: expect.service, line: lines[i + 1]!, attempts: expect.attempts! });
    });
  }
  return [...picked.values()];
}

describe('every service in the list, counted by the running exporter', () => {
  it('a failure line of each service (sshd to apache, in its own log format) shows in hostguard_auth_failures_total{service}', async () => {
    const dir = tempDir();
    const log = join(dir, 'mixed.log');
    writeFileSync(log, '');
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policyFor(dir, log),
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    const lines = oneFailurePerService();
    expect(lines.map((l) => l.service).sort()).toEqual([...authServices].sort());
    appendFileSync(log, lines.map((l) => l.line + '\n').join(''));
    const samples = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
    for (const { service, attempts } of lines) {
      const counted = samples
        .filter((s) => s.name === 'hostguard_auth_failures_total' && s.labels.service === service)
        .reduce((sum, s) => sum + s.value, 0);
      expect(counted, service).toBe(attempts);
    }
    expect(sampleValue(samples, 'hostguard_auth_lines_unparsed_total', { source: log, reason: 'not_syslog' })).toBe(0);
  });
});

describe('a login after repeated failures (success_after_failures)', () => {
  const burst = (ip: string) =>
    [
      ...Array.from(
        { length: 6 },
        (_, i) => `2024-01-05T10:0${i}:00.000000+00:00 web1 sshd[${700 + i}]: Failed password for alice from ${ip} port ${40000 + i} ssh2`,
      ),
      `2024-01-05T10:07:00.000000+00:00 web1 sshd[710]: Accepted password for alice from ${ip} port 40100 ssh2`,
      '',
    ].join('\n');

  it('is a critical finding with the user and address redacted, and a counter the alert rule reads', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const args = [
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policyFor(dir, log),
      '--collector.disable-defaults',
      '--collector.auth',
    ];
    const exporter = await startExporter(args);
    const before = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(before, 'hostguard_auth_success_after_failures_total', { service: 'sshd' })).toBe(0);
    appendFileSync(log, burst('203.0.113.66'));
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(body, 'hostguard_auth_success_after_failures_total', { service: 'sshd' })).toBe(1);
    expect(sampleValue(body, 'hostguard_findings', { collector: 'auth', kind: 'success_after_failures' })).toBe(1);
    const doc = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    const guessed = doc.findings.filter((f) => f.kind === 'success_after_failures');
    expect(guessed).toEqual([
      {
        collector: 'auth',
        kind: 'success_after_failures',
        severity: 'critical',
        subject: { service: 'sshd', user: '[redacted]', remote_address: '[redacted]', at: '2024-01-05T10:07:00.000Z' },
        message:
          '[redacted] logged in to sshd from [redacted] at 2024-01-05T10:07:00.000Z after at least 5 failed attempts from that address within the window before it: a guessed password, or a stolen one, worked',
      },
    ]);
  });

  it('names them with --findings.show-details, and follows the policy: 10 failures in 10 minutes is not 6', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const policy = join(dir, 'policy.yml');
    writeFileSync(
      policy,
      `auth:\n  success_after_failures:\n    failures: 10\n    window: 10m\n  sources:\n    - type: file\n      path: ${log}\n`,
    );
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--findings.show-details',
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    appendFileSync(log, burst('203.0.113.67'));
    expect(
      sampleValue(await (await fetch(`${exporter.url}/metrics`)).text(), 'hostguard_auth_success_after_failures_total', {
        service: 'sshd',
      }),
    ).toBe(0);
    writeFileSync(
      policy,
      `auth:\n  success_after_failures:\n    failures: 6\n    window: 10m\n  sources:\n    - type: file\n      path: ${log}\n`,
    );
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    appendFileSync(log, burst('203.0.113.68'));
    const doc = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    expect(doc.findings.filter((f) => f.kind === 'success_after_failures').map((f) => [f.subject.user, f.subject.remote_address])).toEqual([
      ['alice', '203.0.113.68'],
    ]);
  });
});

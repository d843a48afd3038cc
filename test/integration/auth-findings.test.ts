import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';

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
    const exporter = await startExporter(['--state.dir', join(dir, 'state'), '--config.file', policyFor(dir, log), '--collector.disable-defaults', '--collector.auth']);
    const quiet = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    expect(quiet.findings).toEqual([]);
    appendFileSync(
      log,
      [
        'Jan  5 10:00:00 web1 sshd[501]: Failed password for root from 203.0.113.9 port 40000 ssh2',
        'Jan  5 10:00:01 web1 sshd[501]: Failed password for root from 203.0.113.9 port 40000 ssh2',
        'Jan  5 10:00:02 web1 sudo:   nobody : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh',
        '',
      ].join('\n'),
    );
    const burst = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    expect(burst.findings.map((f) => [f.kind, f.severity, f.subject])).toEqual([
      ['recent_failures', 'info', { service: 'sshd' }],
      ['recent_failures', 'info', { service: 'sudo' }],
    ]);
    expect(burst.findings[0]!.message).toBe('2 sshd authentication failures in the last 5 minutes, from about 1 source address (all services)');
  });

  it('exposes the busiest failing source addresses only when asked to (auth.top_sources), and their distinct count always', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  top_sources: 2\n  sources:\n    - type: file\n      path: ${log}\n`);
    const exporter = await startExporter(['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.auth']);
    const failed = (ip: string, pid: number) => `Jan  5 10:00:00 web1 sshd[${pid}]: Failed password for root from ${ip} port 40000 ssh2\n`;
    appendFileSync(log, failed('203.0.113.1', 1) + failed('203.0.113.1', 2) + failed('203.0.113.1', 3) + failed('203.0.113.2', 4) + failed('203.0.113.2', 5) + failed('203.0.113.3', 6));
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
    const missing = runCli(['--state.dir', state, '--config.file', policyFor(dir, join(dir, 'gone.log')), '--collector.disable-defaults', '--collector.auth', 'check', '--format', 'json']);
    expect(missing.code).toBe(1);
    expect((JSON.parse(missing.stdout) as FindingsDocument).findings).toMatchObject([
      { collector: 'auth', kind: 'source_unavailable', severity: 'warning', subject: { source: join(dir, 'gone.log'), type: 'file' } },
    ]);

    const log = join(dir, 'auth.log');
    writeFileSync(log, 'Jan  5 10:00:00 web1 sshd[501]: Failed password for root from 203.0.113.9 port 40000 ssh2\n');
    const readable = runCli(['--state.dir', state, '--config.file', policyFor(dir, log), '--collector.disable-defaults', '--collector.auth', 'check']);
    expect(readable.code).toBe(0);
    expect(existsSync(join(state, 'auth'))).toBe(false);
  });
});

import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';

describe('auth on a quiet host', () => {
  it('after the baseline, ordinary log traffic (cron, logins, sudo, probes) gives zero auth findings', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${log}\n`);
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    appendFileSync(
      log,
      [
        '2024-01-05T10:00:00.000000+00:00 web1 CRON[700]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)',
        '2024-01-05T10:00:01.000000+00:00 web1 sshd[701]: Accepted publickey for root from 192.0.2.40 port 40600 ssh2: ED25519 SHA256:abc',
        '2024-01-05T10:00:01.000000+00:00 web1 sshd[701]: pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)',
        '2024-01-05T10:00:02.000000+00:00 web1 sudo:     root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/true',
        '2024-01-05T10:00:03.000000+00:00 web1 sshd[702]: Connection closed by 192.0.2.41 port 40601 [preauth]',
        '2024-01-05T10:00:04.000000+00:00 web1 systemd-logind[600]: New session 4 of user root.',
        '',
      ].join('\n'),
    );
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(body, 'hostguard_findings', { collector: 'auth', kind: 'recent_failures' })).toBe(0);
    expect(sampleValue(body, 'hostguard_findings', { collector: 'auth', kind: 'source_unavailable' })).toBe(0);
    expect(sampleValue(body, 'hostguard_auth_lines_read_total', { source: log })).toBe(6);
    expect(sampleValue(body, 'hostguard_auth_successes_total', { service: 'sshd', method: 'publickey', user_class: 'root' })).toBe(1);
  });

  it('with the sources it detects on this host (none, or auth.log read from its end), a quiet host has zero auth findings', async () => {
    const exporter = await startExporter(['--state.dir', tempDir(), '--collector.disable-defaults', '--collector.auth']);
    const findings = (await (await fetch(`${exporter.url}/api/findings`)).json()) as { findings: { collector: string }[] };
    expect(findings.findings.filter((f) => f.collector === 'auth')).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const rootfs = ['--path.rootfs', join(fixtures, 'rootfs')];

describe('hostguard-exporter auth test (the fail2ban-regex counterpart)', () => {
  it('prints counts by service, reason and user class for a log file', () => {
    const { code, stdout, stderr } = runCli([...rootfs, 'auth', 'test', join(fixtures, 'auth', 'corpus-iso8601.log')]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Lines: 79 read, 70 matched, 7 ignored, 2 unparsed\n/);
    expect(stdout).toMatch(/^ {2}sshd +password +root +6$/m);
    expect(stdout).toMatch(/^ {2}sudo +incorrect_password +regular +4$/m);
    expect(stdout).toContain('Total failed attempts: 35\n');
    expect(stdout).toMatch(/^ {2}sshd +publickey +regular +1$/m);
  });

  it('prints one JSON object per matched line, reading journalctl JSON from stdin', () => {
    const { code, stdout } = runCli([...rootfs, 'auth', 'test', '--format', 'json'], {
      input: readFileSync(join(fixtures, 'auth', 'journal.json'), 'utf8'),
    });
    expect(code).toBe(0);
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toEqual({
      line: 1,
      service: 'sshd',
      pattern: 'sshd_invalid_user',
      outcome: 'failure',
      reason: 'invalid_user',
      user: 'admin',
      user_class: 'invalid',
      address: '198.51.100.7',
      attempts: 1,
    });
    expect(events.reduce((sum, e) => sum + Number(e.attempts), 0)).toBe(8);
    expect(events.find((e) => e.pattern === 'sshd_accepted')).toMatchObject({
      outcome: 'success',
      method: 'publickey',
      user_class: 'regular',
    });
  });

  it('fails clearly on a file it cannot read', () => {
    const { code, stderr } = runCli(['auth', 'test', '/nonexistent/auth.log']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      "hostguard-exporter: auth test: /nonexistent/auth.log: ENOENT: no such file or directory, open '/nonexistent/auth.log'\n",
    );
  });
});

describe('auth test on the logs of other daemons, and on logins after failures', () => {
  it("classifies a daemon's own log format, including a last line without its newline", () => {
    const dir = tempDir();
    const log = join(dir, 'error.log');
    const text = readFileSync(join(fixtures, 'auth', 'nginx.log'), 'utf8');
    writeFileSync(log, text.trimEnd());
    const { code, stdout } = runCli([...rootfs, 'auth', 'test', log]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Lines: 6 read, 5 matched, 1 ignored, 0 unparsed\n/);
    expect(stdout).toMatch(/^ {2}nginx +password +invalid +2$/m);
    expect(stdout).toContain('Total failed attempts: 4\n');
  });

  it('reports the logins that came after repeated failures, in the table and in JSON, as the policy says', () => {
    const file = join(fixtures, 'auth', 'sshd-openssh.log');
    const table = runCli([...rootfs, 'auth', 'test', file]);
    expect(table.stdout).toContain(
      'Logins after repeated failures (success_after_failures):\n  sshd  user=alice  address=192.0.2.90  after 5 failures for the user\n  sshd  user=alice  address=203.0.113.99  after 5 failures from the address\n',
    );
    const json = runCli([...rootfs, 'auth', 'test', '--format', 'json', file]);
    const guessed = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.success_after_failures);
    expect(guessed).toEqual([
      expect.objectContaining({
        pattern: 'sshd_accepted',
        user: 'alice',
        address: '192.0.2.90',
        success_after_failures: { by: 'user', failures: 5 },
      }),
      expect.objectContaining({
        pattern: 'sshd_accepted',
        user: 'alice',
        address: '203.0.113.99',
        success_after_failures: { by: 'address', failures: 5 },
      }),
    ]);
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'auth:\n  success_after_failures:\n    failures: 0\n');
    expect(runCli([...rootfs, '--config.file', policy, 'auth', 'test', file]).stdout).toContain('Logins after repeated failures: none\n');
  });
});

describe('auth test through a pipe', () => {
  /** 30,000 failed passwords: some 6 MB of JSON, a hundred times what a pipe holds. */
  const failures = 30_000;
  const bigLog = () => {
    const log = join(tempDir(), 'auth.log');
    const lines = Array.from(
      { length: failures },
      (_, i) => `Jan  5 10:00:00 web1 sshd[${1000 + i}]: Failed password for root from 203.0.113.9 port ${20000 + (i % 40000)} ssh2\n`,
    );
    writeFileSync(log, lines.join(''));
    return log;
  };
  const shell = (script: string) => spawnSync('bash', ['-c', `set -o pipefail; ${script}`], { encoding: 'utf8', timeout: 60_000 });

  it('gives a reader that is slow to start every JSON line: it waits for the pipe instead of exiting with lines unwritten', () => {
    const log = bigLog();
    const run = shell(`'${cliPath}' ${rootfs.join(' ')} auth test --format json '${log}' | { sleep 0.3; wc -l; }`);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(Number(run.stdout.trim())).toBe(failures);
  });

  it('stops quietly when its reader leaves (| head), and says so when the output fails', () => {
    const log = bigLog();
    const head = shell(`'${cliPath}' ${rootfs.join(' ')} auth test --format json '${log}' | head -n 1`);
    expect(head.stderr).toBe('');
    expect(head.status).toBe(0);
    expect(JSON.parse(head.stdout)).toMatchObject({ line: 1, pattern: 'sshd_failed', attempts: 1 });
    const full = shell(`'${cliPath}' ${rootfs.join(' ')} auth test '${log}' > /dev/full`);
    expect(full.status).toBe(2);
    expect(full.stderr).toBe('hostguard-exporter: auth test: standard output: ENOSPC: no space left on device, write\n');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

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
    const { code, stdout } = runCli([...rootfs, 'auth', 'test', '--format', 'json'], { input: readFileSync(join(fixtures, 'auth', 'journal.json'), 'utf8') });
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
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
    expect(events.find((e) => e.pattern === 'sshd_accepted')).toMatchObject({ outcome: 'success', method: 'publickey', user_class: 'regular' });
  });

  it('fails clearly on a file it cannot read', () => {
    const { code, stderr } = runCli(['auth', 'test', '/nonexistent/auth.log']);
    expect(code).toBe(2);
    expect(stderr).toBe("hostguard-exporter: auth test: /nonexistent/auth.log: ENOENT: no such file or directory, open '/nonexistent/auth.log'\n");
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/load-policy.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';

describe('the command line', () => {
  it('documents the Prometheus-style flags in --help and exits 0', () => {
    const { code, stdout } = runCli(['--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--web.listen-address',
      '--web.telemetry-path',
      '--web.config.file',
      '--config.file',
      '--path.procfs',
      '--path.rootfs',
      '--state.dir',
      '--log.level',
      '--log.format',
      '--version',
      '--metrics.max-finding-series',
      '--collector.timeout',
      '--baseline.timeout',
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain(':10177');
  });

  it('prints its version', () => {
    const { code, stdout } = runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^hostguard-exporter \d+\.\d+\.\d+ \(revision \S+, node v\d+/);
  });

  it('rejects an unknown flag with usage and exit 2', () => {
    const { code, stderr } = runCli(['--web.listen-adress', ':1']);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option '--web.listen-adress'");
    expect(stderr).toContain('--help');
  });

  it('rejects a collector timeout of zero, which would fail every collector', () => {
    const { code, stderr } = runCli(['--collector.timeout', '0s', 'check']);
    expect(code).toBe(2);
    expect(stderr).toContain('expected a duration longer than 0');
  });

  it('rejects an unknown subcommand with usage and exit 2', () => {
    const { code, stderr } = runCli(['chek']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command "chek"\nusage: hostguard-exporter/);
  });

  it.each([['baseline'], ['policy'], ['auth']])('%s without a subcommand prints its help to stderr and exits 2', (group) => {
    const { code, stdout, stderr } = runCli([group]);
    expect(stdout).toBe('');
    expect(stderr).toContain(`Usage: hostguard-exporter ${group} [options] [command]`);
    expect(code).toBe(2);
  });

  it('exits 0 for help that was asked for', () => {
    expect(runCli(['baseline', '--help']).code).toBe(0);
    expect(runCli(['help', 'baseline']).code).toBe(0);
  });

  it('ends with exit 2 and the stack, not Node\'s exit 1 ("findings"), when an error escapes everything', () => {
    const lastResort = pathToFileURL(join(repoRoot, 'dist', 'cli', 'last-resort.js')).href;
    for (const [escape, kind] of [
      ['setTimeout(() => { throw new Error("boom"); })', 'uncaught exception'],
      ['Promise.reject(new Error("boom"))', 'unhandled promise rejection'],
    ] as const) {
      const script = `const { exitOnUncaughtErrors } = await import(${JSON.stringify(lastResort)}); exitOnUncaughtErrors(); ${escape};`;
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^hostguard-exporter: ${kind}: Error: boom\\n\\s+at `));
    }
  });

  it('refuses an invalid policy in one line naming the file, line and key', () => {
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'processes:\n  allow:\n    - exe: /usr/bin/a\n      usr: root\n');
    const { code, stderr } = runCli(['--config.file', policy, '--state.dir', dir, 'check']);
    expect(code).toBe(2);
    expect(stderr).toBe(`hostguard-exporter: ${policy}:4: processes.allow[0].usr: unknown key (allowed: exe, users, parent, comment)\n`);
  });

  it('refuses a missing policy file in one line', () => {
    const dir = tempDir();
    const { code, stderr } = runCli(['--config.file', join(dir, 'nope.yml'), '--state.dir', dir, 'serve']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('nope.yml: cannot read the policy file (ENOENT');
  });

  it('explains an unusable state directory without a stack trace', () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const { code, stderr } = runCli(['--state.dir', join(file, 'state'), 'check']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^hostguard-exporter: state directory .*a-file\/state: cannot create it \(ENOTDIR/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('prints the embedded default policy, which loads', () => {
    const { code, stdout } = runCli(['policy', 'default']);
    expect(code).toBe(0);
    expect(() => parsePolicy(stdout, 'default')).not.toThrow();
  });

  it('check --format json prints the findings document and exits 0 when there are none', () => {
    const dir = tempDir();
    const { code, stdout } = runCli(['--state.dir', dir, '--collector.disable-defaults', 'check', '--format', 'json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ findings: [] });
  });
});

describe('baseline commands', () => {
  it('init, show, refuse a second init, and detect an edit as not verified', () => {
    const dir = tempDir();
    const init = runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'init']);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`baseline written to ${dir}/baseline.json`);

    const show = runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'show']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/origin:\s+operator\nverified: yes \(SHA-256\)/);

    const again = runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('a baseline already exists');

    const file = join(dir, 'baseline.json');
    const document = JSON.parse(readFileSync(file, 'utf8'));
    document.hostname = 'somewhere-else';
    writeFileSync(file, JSON.stringify(document));
    const tampered = runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'show']);
    expect(tampered.code).toBe(2);
    expect(tampered.stdout).toContain('verified: NO: content does not match its SHA-256');
  });

  it('signs with an HMAC key and rejects a short key', () => {
    const dir = tempDir();
    const key = join(dir, 'key');
    writeFileSync(key, 'short');
    expect(
      runCli(['--state.dir', dir, '--collector.disable-defaults', '--baseline.hmac-key-file', key, 'baseline', 'init']).stderr,
    ).toContain('at least 16 bytes');
    writeFileSync(key, 'a-key-that-is-long-enough');
    expect(runCli(['--state.dir', dir, '--collector.disable-defaults', '--baseline.hmac-key-file', key, 'baseline', 'init']).code).toBe(0);
    expect(
      runCli(['--state.dir', dir, '--collector.disable-defaults', '--baseline.hmac-key-file', key, 'baseline', 'show']).stdout,
    ).toContain('verified: yes (SHA-256 and HMAC)');
    writeFileSync(key, 'a-different-key-of-enough-length');
    expect(
      runCli(['--state.dir', dir, '--collector.disable-defaults', '--baseline.hmac-key-file', key, 'baseline', 'show']).stdout,
    ).toContain('verified: NO: HMAC does not match');
  });

  it('check exits 2, not 0, when the baseline does not verify: one edited byte leaves only the policy to judge by', () => {
    const dir = tempDir();
    expect(runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'init']).code).toBe(0);
    expect(runCli(['--state.dir', dir, '--collector.disable-defaults', 'check']).code).toBe(0);
    const file = join(dir, 'baseline.json');
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('"hostname"') + '"hostname": "'.length;
    writeFileSync(file, text.slice(0, at) + (text[at] === 'x' ? 'y' : 'x') + text.slice(at + 1));
    const tampered = runCli(['--state.dir', dir, '--collector.disable-defaults', 'check']);
    expect(tampered.stderr).toMatch(/^check incomplete: baseline tampered \(.+\); judged by the policy alone$/m);
    expect(tampered.code).toBe(2);
    writeFileSync(file, '{"half a baseline');
    const corrupt = runCli(['--state.dir', dir, '--collector.disable-defaults', 'check']);
    expect(corrupt.stderr).toMatch(/^check incomplete: baseline corrupt \(not JSON: /m);
    expect(corrupt.code).toBe(2);
  });

  it('baseline update refuses a baseline that does not verify instead of dropping the sections it cannot trust', () => {
    const dir = tempDir();
    const cli = (...args: string[]) => runCli(['--state.dir', dir, '--collector.disable-defaults', ...args]);
    expect(cli('baseline', 'init').code).toBe(0);
    const file = join(dir, 'baseline.json');
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('"hostname"') + '"hostname": "'.length;
    const edited = text.slice(0, at) + (text[at] === 'x' ? 'y' : 'x') + text.slice(at + 1);
    writeFileSync(file, edited);
    const update = cli('baseline', 'update');
    expect(update.stderr).toMatch(
      /^hostguard-exporter: the baseline at \S+ does not verify \(tampered: .+\); `baseline init --force` replaces it whole$/m,
    );
    expect(update.code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(edited);
    expect(cli('baseline', 'init', '--force').code).toBe(0);
    expect(cli('baseline', 'show').stdout).toContain('verified: yes');
  });

  it('baseline update on a missing baseline writes one, as init does', () => {
    const dir = tempDir();
    expect(runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'update']).code).toBe(0);
    expect(runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'show']).stdout).toContain('verified: yes');
  });

  it('diff exits 0 when the host matches the baseline', () => {
    // Without host collectors: processes come and go on a shared host (test/serial checks a quiet one).
    const dir = tempDir();
    runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'init']);
    const diff = runCli(['--state.dir', dir, '--collector.disable-defaults', 'baseline', 'diff']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toBe('no changes\n');
  });
});

import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, runCli, tempDir } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

interface CheckFinding {
  kind: string;
  severity: string;
  subject: Record<string, string>;
  message: string;
}

/** A /proc of the test's own: the kernel's files as a running kernel writes them. */
function kernelProc(): string {
  const procfs = tempDir('hostguard-kernel-proc-');
  const files: Record<string, string> = {
    modules: 'nf_tables 233472 0 - Live 0xffffffffc0a00000\next4 1003520 1 - Live 0xffffffffc0800000\n',
    'sys/kernel/tainted': '0\n',
    'sys/kernel/randomize_va_space': '2\n',
    'sys/kernel/kptr_restrict': '1\n',
    'sys/kernel/core_pattern': '|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E\n',
    'sys/net/ipv4/ip_forward': '0\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(procfs, path)), { recursive: true });
    writeFileSync(join(procfs, path), text);
  }
  return procfs;
}

function check(args: readonly string[]): { code: number | null; findings: CheckFinding[]; stderr: string } {
  const result = runCli([...args, 'check', '--format', 'json']);
  return { code: result.code, stderr: result.stderr, findings: (JSON.parse(result.stdout) as { findings: CheckFinding[] }).findings };
}

describe('collector kernel', () => {
  it('reports a module loaded since the baseline, the taint it brought, and sysctls changed or gone', () => {
    const procfs = kernelProc();
    const args = ['--collector.disable-defaults', '--collector.kernel', '--path.procfs', procfs, '--state.dir', tempDir()];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    expect(check(args)).toMatchObject({ code: 0, findings: [] });

    // A rootkit module, out of tree and unsigned: it taints the kernel with O and E.
    appendFileSync(join(procfs, 'modules'), 'diamorphine 16384 0 - Live 0xffffffffc0900000 (OE)\n');
    writeFileSync(join(procfs, 'sys/kernel/tainted'), String(4096 + 8192) + '\n');
    writeFileSync(join(procfs, 'sys/kernel/randomize_va_space'), '0\n');
    writeFileSync(join(procfs, 'sys/kernel/core_pattern'), '|/tmp/.x %p\n');
    const { code, findings } = check(args);
    expect(code).toBe(1);
    expect(findings.map((f) => [f.kind, f.subject, f.severity])).toEqual([
      ['kernel_tainted', { flags: 'OE' }, 'critical'],
      ['module_loaded', { module: 'diamorphine' }, 'warning'],
      ['sysctl_changed', { name: 'kernel.core_pattern' }, 'warning'],
      ['sysctl_changed', { name: 'kernel.randomize_va_space' }, 'warning'],
    ]);
    expect(findings.find((f) => f.kind === 'sysctl_changed' && f.subject['name'] === 'kernel.core_pattern')?.message).toMatch(
      /is "\|\/tmp\/\.x %p", was "\|\/usr\/share\/apport/,
    );
  });

  it('reads a kernel without module support (no /proc/modules) and judges the rest', () => {
    const procfs = kernelProc();
    const args = ['--collector.disable-defaults', '--collector.kernel', '--path.procfs', procfs, '--state.dir', tempDir()];
    spawnSync('rm', [join(procfs, 'modules')]);
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    writeFileSync(join(procfs, 'sys/kernel/kptr_restrict'), '0\n');
    expect(check(args).findings.map((f) => f.kind)).toEqual(['sysctl_changed']);
  });

  it('sees a real sysctl change in a network namespace of its own (net.ipv4.ip_forward)', () => {
    const unshare = requireTool('unshare', 'util-linux');
    const state = tempDir();
    const args = ['--collector.disable-defaults', '--collector.kernel', '--state.dir', state];
    // Inside the namespace: learn, turn forwarding on (in this namespace only), check.
    const script = '"$@" baseline init >/dev/null 2>&1 && echo 1 > /proc/sys/net/ipv4/ip_forward && exec "$@" check --format json';
    const result = spawnSync(unshare, ['--net', 'sh', '-c', script, 'sh', cliPath, ...args], { encoding: 'utf8', timeout: 120_000 });
    expect(result.status, result.stderr).toBe(1);
    const findings = (JSON.parse(result.stdout) as { findings: CheckFinding[] }).findings;
    // The kernel turns a host into a router whole: forwarding on also resets accept_redirects (RFC 1812).
    expect(findings.map((f) => [f.kind, f.subject])).toEqual([
      ['sysctl_changed', { name: 'net.ipv4.conf.all.accept_redirects' }],
      ['sysctl_changed', { name: 'net.ipv4.ip_forward' }],
    ]);
    expect(findings[1]?.message).toBe('sysctl net.ipv4.ip_forward is "1", was "0" at the baseline');
  });

  it('refuses a sysctl name that would read outside /proc/sys, naming the key', () => {
    const policy = join(tempDir(), 'policy.yml');
    writeFileSync(policy, 'kernel:\n  sysctls: [kernel.kptr_restrict, "../../etc/shadow"]\n');
    const result = runCli([
      '--collector.disable-defaults',
      '--collector.kernel',
      '--config.file',
      policy,
      '--state.dir',
      tempDir(),
      'check',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/kernel\.sysctls\[1\]/);
  });
});

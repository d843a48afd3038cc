import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../../helpers/cli.js';
import { sampleValue } from '../../helpers/exposition.js';
import { requireTool } from '../../helpers/tools.js';
import { persistenceRoot, scrapeUntil } from './persistence-host.js';

interface CheckFinding {
  kind: string;
  severity: string;
  subject: Record<string, string>;
  message: string;
}

/** A root of the test's own holding one setuid helper, searched for privileged files hourly (and by `check` when no search is on record). */
function hostWithHelper(): { root: string; args: string[]; state: string } {
  const root = persistenceRoot();
  mkdirSync(join(root, 'usr/lib/helper'), { recursive: true });
  copyFileSync('/usr/bin/true', join(root, 'usr/lib/helper/helper'));
  chmodSync(join(root, 'usr/lib/helper/helper'), 0o4755);
  const policy = join(tempDir('hostguard-policy-'), 'policy.yml');
  writeFileSync(
    policy,
    [
      'integrity:',
      '  paths: [/usr/local/bin, /etc]',
      '  running_executables: false',
      '  package_database: false',
      '  realtime: false',
      '  privileged_files:',
      '    enabled: true',
      '    max_entries_per_second: 0',
      '',
    ].join('\n'),
  );
  const state = tempDir();
  return {
    root,
    state,
    args: ['--collector.disable-defaults', '--collector.integrity', '--config.file', policy, '--path.rootfs', root, '--state.dir', state],
  };
}

function check(args: readonly string[]): { code: number | null; findings: CheckFinding[] } {
  const result = runCli([...args, 'check', '--format', 'json']);
  expect(result.stderr).not.toMatch(/check incomplete/);
  // A check that printed no document: its exit code and log are the diagnosis.
  expect({ code: result.code, stdout: result.stdout.slice(0, 1), stderr: result.stdout === '' ? result.stderr : '' }).toMatchObject({
    stdout: '{',
  });
  return { code: result.code, findings: (JSON.parse(result.stdout) as { findings: CheckFinding[] }).findings };
}

describe('the search for setuid, setgid and capability files', () => {
  it('finds a setuid shell in /tmp and capabilities set in a home directory and on a watched binary, and nothing the baseline holds', () => {
    const setcap = requireTool('setcap', 'libcap2-bin');
    const { root, args, state } = hostWithHelper();
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    expect(check(args)).toEqual({ code: 0, findings: [] });

    mkdirSync(join(root, 'tmp/.x'), { recursive: true });
    copyFileSync('/usr/bin/bash', join(root, 'tmp/.x/sh'));
    chmodSync(join(root, 'tmp/.x/sh'), 0o4755);
    copyFileSync('/usr/bin/true', join(root, 'home/alice/tool'));
    chmodSync(join(root, 'home/alice/tool'), 0o755);
    execFileSync(setcap, ['cap_setuid+ep', join(root, 'home/alice/tool')]);
    copyFileSync('/usr/bin/true', join(root, 'usr/local/bin/net'));
    chmodSync(join(root, 'usr/local/bin/net'), 0o755);
    execFileSync(setcap, ['cap_net_admin+ep', join(root, 'usr/local/bin/net')]);
    // `check` takes the last search while it is within its hourly interval: without it on record, it searches.
    rmSync(join(state, 'integrity-privileged-search.json'));

    const { code, findings } = check(args);
    expect(code).toBe(1);
    const privileged = findings.filter((f) => f.kind.startsWith('privileged_')).map((f) => [f.kind, f.subject, f.severity]);
    expect(privileged).toEqual(
      expect.arrayContaining([
        ['privileged_file_added', { path: '/tmp/.x/sh', attribute: 'setuid' }, 'critical'],
        ['privileged_file_added', { path: '/home/alice/tool', attribute: 'capability' }, 'critical'],
        // The watched-path scan saw the new file (added); only the search sees its capabilities.
        ['privileged_file_added', { path: '/usr/local/bin/net', attribute: 'capability' }, 'critical'],
      ]),
    );
    expect(privileged).toHaveLength(3);
    expect(findings.find((f) => f.subject['path'] === '/home/alice/tool')?.message).toMatch(/cap_setuid=ep .*no package owns it/);
    expect(findings).toContainEqual(expect.objectContaining({ kind: 'added', subject: { path: '/usr/local/bin/net' } }));
  });

  it("reads the host through PID 1's root when its own mount namespace is another (systemd PrivateTmp hides the host's /tmp)", () => {
    // A /proc where PID 1 and the exporter are in different mount namespaces, PID 1's root holding
    // a setuid shell in /tmp that the exporter's own view (the real /, with --path.rootfs /) lacks.
    const procfs = tempDir('hostguard-proc-');
    mkdirSync(join(procfs, '1/ns'), { recursive: true });
    mkdirSync(join(procfs, 'self/ns'), { recursive: true });
    symlinkSync('mnt:[4026531840]', join(procfs, '1/ns/mnt'));
    symlinkSync('mnt:[4026532999]', join(procfs, 'self/ns/mnt'));
    writeFileSync(join(procfs, '1/mountinfo'), '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n');
    mkdirSync(join(procfs, '1/root/tmp/.x'), { recursive: true });
    copyFileSync('/usr/bin/true', join(procfs, '1/root/tmp/.x/sh'));
    chmodSync(join(procfs, '1/root/tmp/.x/sh'), 0o4755);
    const policy = join(tempDir('hostguard-policy-'), 'policy.yml');
    writeFileSync(
      policy,
      'integrity:\n  paths: []\n  running_executables: false\n  package_database: false\n  realtime: false\n  privileged_files: { max_entries_per_second: 0 }\n',
    );
    const args = [
      '--collector.disable-defaults',
      '--collector.integrity',
      '--config.file',
      policy,
      '--path.procfs',
      procfs,
      '--state.dir',
      tempDir(),
    ];
    const { findings } = check(args);
    expect(findings.map((f) => [f.kind, f.subject])).toEqual([['privileged_file_added', { path: '/tmp/.x/sh', attribute: 'setuid' }]]);
  });

  it(
    'reports a known helper whose owner changed, searching at the start of serve when no search of the last hour is on record',
    { timeout: 120_000 },
    async () => {
      const { root, args, state } = hostWithHelper();
      expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
      rmSync(join(state, 'integrity-privileged-search.json'));
      execFileSync('chown', ['1000', join(root, 'usr/lib/helper/helper')]);
      chmodSync(join(root, 'usr/lib/helper/helper'), 0o4755); // chown clears the setuid bit: the intruder sets it again
      const exporter = await startExporter(args);
      const samples = await scrapeUntil(
        exporter,
        (s) => (sampleValue(s, 'hostguard_integrity_privileged_search_last_end_timestamp_seconds') ?? 0) > 0,
        'a search',
      );
      expect(
        sampleValue(samples, 'hostguard_integrity_mismatch', {
          path: '/usr/lib/helper/helper',
          kind: 'privileged_file_changed',
          attribute: 'owner',
        }),
      ).toBe(1);
      expect(sampleValue(samples, 'hostguard_integrity_privileged_files', { privilege: 'setuid' })).toBe(1);
      expect(sampleValue(samples, 'hostguard_integrity_privileged_search_capabilities', { state: 'checked' })).toBe(1);
      expect(sampleValue(samples, 'hostguard_integrity_privileged_search_entries')).toBeGreaterThan(10);
      expect(sampleValue(samples, 'hostguard_integrity_privileged_search_interval_seconds')).toBe(3600);
    },
  );
});

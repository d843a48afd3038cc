import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { startAuditd, type RunningAuditd } from '../helpers/auditd.js';
import { repoRoot, runCli, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { until } from '../helpers/poll.js';
import { runcSleepBundle } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

/**
 * Every exec, from the real kernel audit subsystem: auditd (Debian's package) started by this file
 * with deploy/audit/hostguard.rules, the exporter following its log. The audit subsystem is
 * host-wide: this file runs alone (test/serial), and puts back the rules, backlog and enabled flag
 * it found. The four steps of the story that made this source: a binary from /tmp that lives a
 * millisecond, one that lives 0.3 s, the loader running a program from /tmp, scripts run by
 * interpreters; then auditing switched off, and a quiet host's own commands.
 */

let auditd: RunningAuditd;
let dir: string;

beforeAll(async () => {
  dir = tempDir('hostguard-auditd-');
  auditd = await startAuditd(dir);
});

afterAll(async () => {
  await auditd?.stop();
});

// As in processes-quiet-host: the VM's memfd supervisor and the test runner's own toolchain.
const toolchain = `${repoRoot}/node_modules/**`;

async function exporterFollowingAuditd(extra = ''): Promise<{ exporter: RunningExporter }> {
  const state = tempDir();
  const policy = join(state, 'policy.yml');
  writeFileSync(
    policy,
    `processes:
  allow:
    - exe: "/memfd:sealed-*"
      users: [root]
    - exe: ${JSON.stringify(toolchain)}
  writable_locations:
    except: ["/memfd:sealed-*", ${JSON.stringify(toolchain)}]
  hidden_sweep: { enabled: false }
  exec_events:
    path: ${auditd.log}
${extra}`,
  );
  const args = [
    '--state.dir',
    state,
    '--config.file',
    policy,
    '--collector.disable-defaults',
    '--collector.processes',
    '--findings.show-details',
  ];
  return { exporter: await startExporter(args) };
}

async function findings(exporter: RunningExporter): Promise<FindingsDocument['findings']> {
  return ((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings;
}

function planted(name: string, from: string): string {
  const path = join(tempDir('hostguard-drop-'), name);
  copyFileSync(from, path);
  chmodSync(path, 0o755);
  return path;
}

const flaggedExec = (all: FindingsDocument['findings'], exe: string) =>
  all.filter((f) => f.kind === 'flagged_exec' && f.subject['exe'] === exe);

/** Run a marker from /tmp last: once its exec is a finding, every exec before it was read. The findings then. */
async function afterMarker(exporter: RunningExporter): Promise<{ found: FindingsDocument['findings']; marker: string }> {
  const marker = planted('marker', '/usr/bin/true');
  spawnSync(marker);
  const found = await until(
    'the marker',
    () => findings(exporter),
    (all) => flaggedExec(all, marker).length > 0,
  );
  return { found, marker };
}

// Polls use until's deadline (60 s) and some tests wait twice: more than the default timeout.
describe('every exec, from the kernel audit log', { timeout: 180_000 }, () => {
  it('step 1: a binary from /tmp that lives a millisecond is a flagged_exec finding naming it', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const x = planted('x', '/usr/bin/true');
    expect(spawnSync(x).status).toBe(0);
    const found = await until(
      'the flagged exec',
      () => findings(exporter),
      (all) => flaggedExec(all, x).length > 0,
    );
    expect(flaggedExec(found, x).map((f) => [f.severity, f.subject])).toEqual([
      ['critical', { exe: x, kind: 'writable_location', user: 'root' }],
    ]);
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(body, 'hostguard_process_flagged_execs', { exe: x, user_class: 'root', kind: 'writable_location' })).toBe(1);
    expect(sampleValue(body, 'hostguard_process_exec_source_healthy', { path: auditd.log })).toBe(1);
    expect(sampleValue(body, 'hostguard_process_exec_kernel_status_success', { path: auditd.log })).toBe(1);
  });

  it('a hundred execs of it are a hundred counted and flagged, none missed', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const x = planted('x', '/usr/bin/true');
    expect(spawnSync('/bin/sh', ['-c', `i=0; while [ $i -lt 100 ]; do ${x}; i=$((i+1)); done`]).status).toBe(0);
    const body = await until(
      'a hundred flagged execs',
      async () => (await fetch(`${exporter.url}/metrics`)).text(),
      (b) => (sampleValue(b, 'hostguard_process_flagged_execs', { exe: x, user_class: 'root', kind: 'writable_location' }) ?? 0) >= 100,
    );
    expect(sampleValue(body, 'hostguard_process_flagged_execs', { exe: x, user_class: 'root', kind: 'writable_location' })).toBe(100);
    expect(flaggedExec(await findings(exporter), x)[0]!.message).toContain('ran 100 times in the last 15m');
  });

  it('step 2: one that lives 0.3 s, and is gone by the scrape, names its executable', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const y = planted('y', '/usr/bin/sleep');
    expect(spawnSync(y, ['0.3']).status).toBe(0);
    const found = await until(
      'the flagged exec',
      () => findings(exporter),
      (all) => flaggedExec(all, y).length > 0,
    );
    expect(flaggedExec(found, y)[0]!.subject).toEqual({ exe: y, kind: 'writable_location', user: 'root' });
  });

  it('step 3: the loader running a program from /tmp names the program and the loader', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const x = planted('x', '/usr/bin/true');
    expect(spawnSync('/lib64/ld-linux-x86-64.so.2', [x]).status).toBe(0);
    const found = await until(
      'the flagged exec',
      () => findings(exporter),
      (all) => flaggedExec(all, x).length > 0,
    );
    expect(flaggedExec(found, x)[0]!.subject).toEqual({
      exe: x,
      kind: 'writable_location',
      loader: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      user: 'root',
    });
  });

  it('step 4: python3 /tmp/evil.py, bash /tmp/evil.sh and a #! script name the script and its interpreter', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const scripts = tempDir('hostguard-drop-');
    const py = join(scripts, 'evil.py');
    const sh = join(scripts, 'evil.sh');
    const shebang = join(scripts, 'run');
    writeFileSync(py, 'print("hi")\n');
    writeFileSync(sh, 'true\n');
    writeFileSync(shebang, '#!/bin/sh\ntrue\n');
    chmodSync(shebang, 0o755);
    expect(spawnSync('/usr/bin/python3', [py]).status).toBe(0);
    expect(spawnSync('bash', [sh]).status).toBe(0);
    expect(spawnSync(shebang).status).toBe(0);
    const found = await until(
      'three flagged scripts',
      () => findings(exporter),
      (all) => [py, sh, shebang].every((s) => flaggedExec(all, s).length > 0),
    );
    expect(flaggedExec(found, py)[0]!.subject).toEqual({
      exe: py,
      kind: 'writable_location',
      interpreter: expect.stringMatching(/^\/usr\/bin\/python3\.\d+$/),
      user: 'root',
    });
    expect(flaggedExec(found, sh)[0]!.subject).toEqual({ exe: sh, kind: 'writable_location', interpreter: '/usr/bin/bash', user: 'root' });
    expect(flaggedExec(found, shebang)[0]!.subject).toEqual({
      exe: shebang,
      kind: 'writable_location',
      interpreter: '/usr/bin/dash',
      user: 'root',
    });
  });

  it('a program run from a detached mount (its path hidden, as runc runs its init) is flagged, unless it is the very file its parent runs', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const fixture = join(repoRoot, 'test/fixtures/processes/detached-exec.py');
    const pidOf = (result: ReturnType<typeof spawnSync>) => Number(/pid (\d+)/.exec(String(result.stdout))?.[1]);
    // Both exit at once: judged from their records, their parent gone by then too.
    const hidden = pidOf(spawnSync('/usr/bin/python3', [fixture, planted('tool', '/usr/bin/true'), 'tool'], { encoding: 'utf8' }));
    const same = pidOf(spawnSync('/usr/bin/python3', [fixture, '/usr/bin/python3', 'python3', '-c', 'pass'], { encoding: 'utf8' }));
    expect([hidden, same].every((pid) => pid > 0)).toBe(true);
    const { found } = await afterMarker(exporter);
    const about = (pid: number) =>
      found.filter((f) => f.kind === 'flagged_exec' && f.message.includes(`(PID ${pid},`)).map((f) => f.subject);
    expect(about(hidden)).toEqual([{ exe: '/', kind: 'unknown_executable', user: 'root' }]);
    expect(about(same)).toEqual([]);
  });

  it('inline code and code on stdin are counted, without a finding', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const count = async (via: string) =>
      sampleValue(await (await fetch(`${exporter.url}/metrics`)).text(), 'hostguard_process_inline_code_total', {
        interpreter: 'dash',
        via,
      }) ?? 0;
    const before = { argument: await count('argument'), stdin: await count('stdin') };
    expect(spawnSync('sh', ['-c', 'true']).status).toBe(0);
    expect(spawnSync('sh', [], { input: 'true\n' }).status).toBe(0);
    await until(
      'both counted',
      async () => [await count('argument'), await count('stdin')],
      ([a, s]) => a! > before.argument && s! > before.stdin,
    );
  });

  it('auditing switched off, and the exec rules removed, are exec_auditing_off (critical) until they are back', async () => {
    const { exporter } = await exporterFollowingAuditd();
    const off = (all: FindingsDocument['findings'], reason: string) =>
      all.filter((f) => f.kind === 'exec_auditing_off' && f.subject['reason'] === reason);
    try {
      auditd.auditctl('-e', '0');
      const disabled = await until(
        'auditing off',
        () => findings(exporter),
        (all) => off(all, 'disabled').length > 0,
      );
      expect(off(disabled, 'disabled')[0]).toMatchObject({
        severity: 'critical',
        message: expect.stringMatching(/^auditing was switched off since /),
      });
      const body = await (await fetch(`${exporter.url}/metrics`)).text();
      expect([
        sampleValue(body, 'hostguard_process_exec_auditing_off', { reason: 'disabled' }),
        sampleValue(body, 'hostguard_process_exec_source_healthy', { path: auditd.log }),
      ]).toEqual([1, 0]);
    } finally {
      auditd.auditctl('-e', '1');
    }
    await until(
      'auditing on again',
      () => findings(exporter),
      (all) => off(all, 'disabled').every((f) => f.message.includes(' to ')),
    );
    try {
      auditd.auditctl('-D');
      const removed = await until(
        'rules removed',
        () => findings(exporter),
        (all) => off(all, 'rules_removed').length > 0,
      );
      expect(off(removed, 'rules_removed')[0]!.message).toMatch(
        /^the exec audit rules were removed since .* \((CONFIG_CHANGE remove_rule key=hostguard_exec|auditctl -l: no rule with key hostguard_exec)/,
      );
    } finally {
      auditd.loadRules();
    }
    const back = await until(
      'rules back',
      async () => (await fetch(`${exporter.url}/metrics`)).text(),
      (b) => sampleValue(b, 'hostguard_process_exec_source_healthy', { path: auditd.log }) === 1,
    );
    expect(sampleValue(back, 'hostguard_process_exec_auditing_off', { reason: 'rules_removed' })).toBe(1);
  });

  it('check reads no log position but says whether the source can be read and auditing is on', () => {
    const state = tempDir();
    const policy = join(state, 'policy.yml');
    writeFileSync(
      policy,
      `processes:\n  hidden_sweep: { enabled: false }\n  injected_code: { enabled: false }\n  exec_events: { path: ${auditd.log} }\n`,
    );
    const result = runCli([
      '--state.dir',
      state,
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.processes',
      'check',
      '--format',
      'json',
    ]);
    expect((JSON.parse(result.stdout) as FindingsDocument).findings.filter((f) => f.kind.startsWith('exec_'))).toEqual([]);
  });
});

/** What cron, apt (through dpkg and debconf), Python tools and ldconfig run on an ordinary day; then a container. */
const quietCommands: Array<[string, string[]]> = [
  ['/bin/sh', ['-c', 'cd / && run-parts --report --regex "^dpkg$" /etc/cron.daily']],
  ['dpkg-reconfigure', ['-fnoninteractive', 'tzdata']],
  ['apt-cache', ['policy', 'bash']],
  ['apt-config', ['dump']],
  ['/usr/bin/lsb_release', ['-a']],
  ['py3versions', ['-d']],
  ['ldconfig', []],
  ['ldconfig', ['-p']],
];

// Eight commands, apt and dpkg among them, each allowed two minutes on a busy machine.
describe('a quiet host stays quiet with every exec judged', { timeout: 20 * 60_000 }, () => {
  it("cron's and apt's scripts, Python tools and ldconfig are never flagged", async () => {
    const { exporter } = await exporterFollowingAuditd();
    // serve accepted the host as it is on its first start: what runs now (the test runner) is known.
    for (const [command, commandArgs] of quietCommands) {
      const result = spawnSync(command, commandArgs, {
        stdio: 'ignore',
        timeout: 120_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      expect([command, result.status]).toEqual([command, 0]);
    }
    // A container run by Debian's runc: its init runs from a detached bind mount of runc itself.
    const runc = requireTool('runc', 'runc');
    const container = `hostguard-exec-${process.pid}`;
    try {
      const run = spawnSync(runc, ['run', '--bundle', runcSleepBundle(runc, tempDir(), 0.2), container], {
        stdio: 'ignore',
        timeout: 60_000,
      });
      expect(run.status).toBe(0);
    } finally {
      spawnSync(runc, ['delete', '--force', container], { stdio: 'ignore', timeout: 20_000 });
    }
    const { found, marker } = await afterMarker(exporter);
    const theirs = found.filter((f) => f.kind === 'flagged_exec' && f.subject['exe'] !== marker);
    const ours = theirs.filter(
      (f) =>
        /^\/(usr|etc|var\/lib\/dpkg|sbin|bin)\/|^\/$/.test(String(f.subject['exe'])) ||
        /dpkg|debconf|python|ldconfig|run-parts|apt|runc/.test(f.message),
    );
    expect(ours.map((f) => [f.subject, f.message])).toEqual([]);
  });
});

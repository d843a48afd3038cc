import { appendFileSync, chmodSync, copyFileSync, realpathSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { auditDisabledRecords, execRecords, gonePid, type ExecLines } from '../helpers/audit-log.js';
import { repoRoot, runCli, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { until } from '../helpers/poll.js';
import { spawnOwned, stopProcess } from '../helpers/processes.js';
import { crioAnnotations, crioCgroup, debianImage, startContainer } from '../helpers/containers.js';

/**
 * The exec source against an audit log written by the test, line by line as auditd writes it
 * (test/helpers/audit-log.ts, after the records of test/fixtures/kaudit/), so that rotation,
 * truncation and restarts fall where each test wants them. test/serial/exec-events.test.ts runs the
 * same story against the real auditd. The exporter is run without auditctl on its PATH, as it runs
 * without CAP_AUDIT_CONTROL: only the log tells it whether auditing is on.
 */

const loader = '/lib64/ld-linux-x86-64.so.2';
const noAuditctl = { ...process.env, PATH: '/usr/bin:/bin' };

interface Setup {
  readonly dir: string;
  readonly log: string;
  readonly stateDir: string;
  readonly args: string[];
  /** A copy of /bin/true in a temporary directory: what an intruder drops and runs for a millisecond. */
  readonly dropped: string;
}

function setup(execEvents = ''): Setup {
  const dir = tempDir('hostguard-exec-');
  const log = join(dir, 'audit.log');
  writeFileSync(log, '');
  const dropped = join(dir, 'x');
  copyFileSync('/usr/bin/true', dropped);
  chmodSync(dropped, 0o755);
  const policy = join(dir, 'policy.yml');
  writeFileSync(
    policy,
    `processes:\n  hidden_sweep: { enabled: false }\n  injected_code: { enabled: false }\n  exec_events:\n    path: ${log}\n    start_at: beginning\n${execEvents}`,
  );
  const stateDir = join(dir, 'state');
  return {
    dir,
    log,
    stateDir,
    dropped,
    args: [
      '--state.dir',
      stateDir,
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.processes',
      '--findings.show-details',
    ],
  };
}

function start(s: Setup): Promise<RunningExporter> {
  return startExporter(s.args, { spawn: (command, args) => spawnOwned(command, args, { env: noAuditctl }) });
}

/** An exec of `exe` by a process already gone, whose parent is this test. */
function exec(s: Setup, serial: number, over: Partial<ExecLines> = {}): string[] {
  return execRecords({
    serial,
    pid: gonePid,
    ppid: process.pid,
    exe: s.dropped,
    argv: [s.dropped],
    cwd: s.dir,
    files: [s.dropped, loader],
    ...over,
  });
}

const write = (path: string, lines: readonly string[]) => appendFileSync(path, lines.map((l) => `${l}\n`).join(''));

async function findings(url: string): Promise<FindingsDocument> {
  return (await (await fetch(`${url}/api/findings`)).json()) as FindingsDocument;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

const execCount = (body: string) =>
  ['known', 'unknown_executable', 'unexpected_user', 'deleted_executable', 'writable_location', 'name_mismatch', 'other_root'].reduce(
    (sum, verdict) => sum + (sampleValue(body, 'hostguard_process_exec_events_total', { verdict }) ?? 0),
    0,
  );

// Each test starts an exporter (some twice) and polls with until's deadline: more than the default timeout.
describe('every exec from the audit log', { timeout: 120_000 }, () => {
  it('a binary from /tmp that lived a millisecond is a flagged_exec finding on the next scrape, naming it, counted once', async () => {
    const s = setup();
    const exporter = await start(s);
    write(s.log, exec(s, 1001));
    const document = await until(
      'the flagged exec',
      () => findings(exporter.url),
      (d) => d.findings.some((f) => f.kind === 'flagged_exec'),
    );
    expect(document.findings.filter((f) => f.kind === 'flagged_exec').map((f) => [f.severity, f.subject])).toEqual([
      ['critical', { exe: s.dropped, kind: 'writable_location', user: 'root' }],
    ]);
    expect(document.findings.find((f) => f.kind === 'flagged_exec')!.message).toMatch(
      new RegExp(`ran once in the last 15m and is gone, last at .* \\(PID ${gonePid}, parent PID ${process.pid}, ${process.execPath}\\)$`),
    );
    const body = await metrics(exporter.url);
    expect(sampleValue(body, 'hostguard_process_exec_events_total', { verdict: 'writable_location' })).toBe(1);
    expect(execCount(body)).toBe(1);
    expect(sampleValue(body, 'hostguard_process_flagged_execs', { exe: s.dropped, user_class: 'root', kind: 'writable_location' })).toBe(1);
    expect(sampleValue(body, 'hostguard_process_exec_source_healthy', { path: s.log })).toBe(1);
    expect(sampleValue(body, 'hostguard_process_exec_kernel_status_success', { path: s.log })).toBe(0);
    expect(sampleValue(body, 'hostguard_process_exec_source_records_total')).toBe(exec(s, 1001).length);
  });

  it("the exporter's own helper process is the exporter: its exec judges no script; the same script run by another parent is judged", async () => {
    const s = setup();
    const exporter = await start(s);
    const helper = join(repoRoot, 'dist/isolated/helper.js');
    const node = realpathSync(process.execPath);
    const run = (serial: number, ppid: number) =>
      exec(s, serial, { exe: node, argv: ['node', '--max-semi-space-size=1', helper], files: [node, loader], ppid });
    write(s.log, [...run(2501, exporter.child.pid!), ...run(2502, process.pid)]);
    const document = await until(
      'the exec by another parent',
      () => findings(exporter.url),
      (d) => d.findings.some((f) => f.kind === 'flagged_exec'),
    );
    const flagged = document.findings.filter((f) => f.kind === 'flagged_exec');
    expect(flagged.map((f) => f.subject)).toEqual([{ exe: helper, interpreter: node, kind: 'unknown_executable', user: 'root' }]);
    // Once: the exporter's own exec of it was not counted with it.
    expect(flagged[0]!.message).toMatch(new RegExp(`ran once in the last 15m .*parent PID ${process.pid}`));
  });

  it('the loader running a program from /tmp, and a script from /tmp: the program and the script are named', async () => {
    const s = setup();
    const exporter = await start(s);
    const script = join(s.dir, 'evil.sh');
    writeFileSync(script, '#!/bin/sh\ntrue\n');
    chmodSync(script, 0o755);
    write(s.log, [
      ...exec(s, 2001, { exe: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', argv: [loader, s.dropped, '60'], files: [loader] }),
      ...exec(s, 2002, { exe: '/usr/bin/dash', argv: ['/bin/sh', script], files: [script, '/bin/sh', loader] }),
      ...exec(s, 2003, { exe: '/usr/bin/python3.11', argv: ['python3', join(s.dir, 'gone.py')], files: ['/usr/bin/python3', loader] }),
    ]);
    const document = await until(
      'three flagged execs',
      () => findings(exporter.url),
      (d) => d.findings.filter((f) => f.kind === 'flagged_exec').length >= 3,
    );
    const flagged = document.findings.filter((f) => f.kind === 'flagged_exec').map((f) => f.subject);
    expect(flagged).toEqual(
      expect.arrayContaining([
        { exe: s.dropped, kind: 'writable_location', loader: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', user: 'root' },
        { exe: script, kind: 'writable_location', interpreter: '/usr/bin/dash', user: 'root' },
        // A script gone when the exec is looked at: deleted_executable, its most severe kind.
        { exe: join(s.dir, 'gone.py'), kind: 'deleted_executable', interpreter: '/usr/bin/python3.11', user: 'root' },
      ]),
    );
    expect(execCount(await metrics(exporter.url))).toBe(3);
  });

  it("an exec in a container (its parent a real runc container's process) names the container as container findings do", async () => {
    const s = setup();
    const pod = { uid: '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f', namespace: 'shop', name: 'web-6c8d9f7b5-q4w2z' };
    const container = startContainer(debianImage(s.dir), s.dir, {
      args: ['/bin/sleep', '100000'],
      cgroup: crioCgroup(pod.uid),
      annotations: crioAnnotations(pod, 'web', 'registry.example.com/shop/web:1.4'),
    });
    const exporter = await start(s);
    // A file dropped in the container's /tmp and run by its shell: gone when the record is read.
    const dropped = '/tmp/hostguard-exec-in-container/x';
    write(
      s.log,
      exec(s, 6001, { ppid: container.pid, exe: dropped, argv: ['./x'], cwd: '/tmp/hostguard-exec-in-container', files: [dropped] }),
    );
    const document = await until(
      'the flagged exec in the container',
      () => findings(exporter.url),
      (d) => d.findings.some((f) => f.kind === 'flagged_exec'),
    );
    const [flagged] = document.findings.filter((f) => f.kind === 'flagged_exec');
    expect(flagged!.subject).toEqual({
      exe: dropped,
      kind: 'writable_location',
      user: 'root',
      mount_namespace: expect.stringMatching(/^mnt:\[\d+\]$/),
      container_runtime: 'cri-o',
      container_id: container.id.slice(0, 12),
      container: 'web',
      image: 'registry.example.com/shop/web:1.4',
      pod_uid: pod.uid,
      pod_namespace: pod.namespace,
      pod: pod.name,
    });
    expect(flagged!.message).toContain(
      `, in cri-o container ${container.id.slice(0, 12)} (web, image registry.example.com/shop/web:1.4, pod shop/${pod.name}); ran once`,
    );
  });

  it('an exec split across a rotation, and one split across a restart, are each counted once', async () => {
    const s = setup();
    let exporter = await start(s);
    const first = exec(s, 3001);
    write(s.log, first.slice(0, 2));
    await metrics(exporter.url); // a collection: its checkpoint holds the two lines of the open event
    renameSync(s.log, `${s.log}.1`);
    write(s.log, [...first.slice(2), ...exec(s, 3002, { exe: '/usr/bin/true', argv: ['true'], files: ['/usr/bin/true', loader] })]);
    let body = await until(
      'two execs',
      () => metrics(exporter.url),
      (b) => execCount(b) >= 2,
    );
    expect([execCount(body), sampleValue(body, 'hostguard_process_exec_events_total', { verdict: 'known' })]).toEqual([2, 1]);

    const third = exec(s, 3003, { exe: join(s.dir, 'x'), argv: ['./x'] });
    write(s.log, third.slice(0, 3));
    await metrics(exporter.url);
    await stopProcess(exporter.child, 'SIGKILL');
    write(s.log, third.slice(3));
    exporter = await start(s);
    body = await until(
      'the third exec',
      () => metrics(exporter.url),
      (b) => execCount(b) >= 1,
    );
    // The new process counts the third exec only: the first two were read and checkpointed before.
    expect(execCount(body)).toBe(1);
    // The flagged execs held before the restart are still findings.
    const document = await findings(exporter.url);
    expect(document.findings.filter((f) => f.kind === 'flagged_exec').map((f) => f.message)).toEqual([
      expect.stringContaining('ran 2 times in the last 15m'),
    ]);
  });

  it('a truncated log is read again from its start', async () => {
    const s = setup();
    const exporter = await start(s);
    write(s.log, exec(s, 4001));
    await until(
      'the first exec',
      () => metrics(exporter.url),
      (b) => execCount(b) === 1,
    );
    truncateSync(s.log, 0);
    write(s.log, exec(s, 4002, { exe: '/usr/bin/true', argv: ['true'], files: ['/usr/bin/true'] }));
    const body = await until(
      'the exec after truncation',
      () => metrics(exporter.url),
      (b) => execCount(b) === 2,
    );
    expect(sampleValue(body, 'hostguard_process_exec_events_total', { verdict: 'known' })).toBe(1);
  });

  it('auditctl -e 0 in the log is exec_auditing_off until an exec is recorded again, then stays as a past stretch', async () => {
    const s = setup();
    const exporter = await start(s);
    write(s.log, auditDisabledRecords(5001));
    const off = await until(
      'auditing off',
      () => findings(exporter.url),
      (d) => d.findings.some((f) => f.kind === 'exec_auditing_off'),
    );
    expect(off.findings.filter((f) => f.kind === 'exec_auditing_off').map((f) => [f.severity, f.subject])).toEqual([
      ['critical', { reason: 'disabled' }],
    ]);
    expect(off.findings.find((f) => f.kind === 'exec_auditing_off')!.message).toMatch(
      /^auditing was switched off since .*: execs are not recorded \(CONFIG_CHANGE audit_enabled=0 by login uid 1000 \(auditctl -e 0\)\)$/,
    );
    let body = await metrics(exporter.url);
    expect([
      sampleValue(body, 'hostguard_process_exec_auditing_off', { reason: 'disabled' }),
      sampleValue(body, 'hostguard_process_exec_source_healthy', { path: s.log }),
    ]).toEqual([1, 0]);
    write(s.log, exec(s, 5002, { exe: '/usr/bin/true', argv: ['true'], files: ['/usr/bin/true'] }));
    body = await until(
      'auditing on again',
      () => metrics(exporter.url),
      (b) => sampleValue(b, 'hostguard_process_exec_source_healthy', { path: s.log }) === 1,
    );
    expect(sampleValue(body, 'hostguard_process_exec_auditing_off', { reason: 'disabled' })).toBe(1);
    const past = await findings(exporter.url);
    expect(past.findings.find((f) => f.kind === 'exec_auditing_off')!.message).toMatch(
      /^auditing was switched off from .* to .*: execs of that time were not recorded/,
    );
  });

  it('check says whether the log can be read: a missing one is exec_source_unavailable', () => {
    const s = setup();
    const ok = runCli([...s.args, 'check', '--format', 'json'], { env: noAuditctl });
    expect((JSON.parse(ok.stdout) as FindingsDocument).findings.filter((f) => f.kind.startsWith('exec_'))).toEqual([]);
    const missing = setup().args.map((a) => a);
    const policy = missing[missing.indexOf('--config.file') + 1]!;
    writeFileSync(policy, `processes:\n  hidden_sweep: { enabled: false }\n  exec_events:\n    path: /nonexistent/audit.log\n`);
    const result = runCli([...missing, 'check', '--format', 'json'], { env: noAuditctl });
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as FindingsDocument).findings.filter((f) => f.kind === 'exec_source_unavailable')).toMatchObject([
      {
        severity: 'warning',
        subject: { path: '/nonexistent/audit.log' },
        message: expect.stringMatching(/^the audit log \/nonexistent\/audit\.log cannot be read \(missing: ENOENT/),
      },
    ]);
  });
});

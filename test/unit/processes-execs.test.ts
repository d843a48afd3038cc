import { describe, expect, it } from 'vitest';
import { processesSectionSchema } from '../../src/config/sections/processes.js';
import { ExecAuditing } from '../../src/processes/exec-auditing.js';
import type { ObservedExec } from '../../src/processes/exec-view.js';
import { FlaggedExecs, type FlaggedExec } from '../../src/processes/flagged-execs.js';
import type { ExecutableFacts, HostView, ObservedProcess } from '../../src/processes/host-view.js';
import { judgeContext } from '../../src/processes/judge.js';
import { execSourceFindings, flaggedExecFindings, judgeExec } from '../../src/processes/judge-execs.js';
import { programContext } from '../../src/processes/judge-programs.js';
import { compileProcessPolicy } from '../../src/processes/process-policy.js';
import { compileContainerPolicy } from '../../src/processes/judge-container.js';
import { containersSectionSchema } from '../../src/config/sections/containers.js';
import type { ContainerIdentity } from '../../src/containers/identity.js';

/** Execs read from the audit log, judged from the records alone: plain objects. */

const t0 = 1_800_000_000_000;

function process(over: Partial<ObservedProcess> = {}): ObservedProcess {
  return {
    pid: 5000,
    ppid: 4000,
    comm: 'x',
    argv0: './x',
    cmdlineEmpty: false,
    kernelThread: false,
    state: 'R',
    euid: 0,
    user: 'root',
    userClass: 'root',
    exe: { kind: 'path', path: '/tmp/drop/x', deleted: false },
    parentExe: '/usr/bin/bash',
    cpuSeconds: 0,
    cpuCores: 0,
    rssBytes: 0,
    startedAt: t0 / 1000,
    mountNamespace: undefined,
    root: 'host',
    stalled: false,
    ...over,
  };
}

function exec(over: Partial<ObservedExec> = {}, p: Partial<ObservedProcess> = {}): ObservedExec {
  return {
    timeMs: t0,
    serial: 100,
    keys: ['hostguard_exec'],
    process: process(p),
    program: undefined,
    inline: undefined,
    container: undefined,
    ...over,
  };
}

const facts = (f: Partial<ExecutableFacts> = {}): ExecutableFacts => ({
  packaged: false,
  worldWritable: false,
  replacedAt: undefined,
  ...f,
});

function judge(
  e: ObservedExec,
  executables: Record<string, Partial<ExecutableFacts>> = {},
  programs: Record<string, Partial<ExecutableFacts>> = {},
) {
  const view: HostView = {
    processes: [],
    executables: new Map(Object.entries(executables).map(([k, v]) => [k, facts(v)])),
    homeDirectories: [],
    dpkgChangedAt: undefined,
  };
  const ctx = judgeContext(
    view,
    compileProcessPolicy(processesSectionSchema.parse({})),
    undefined,
    [],
    compileContainerPolicy(containersSectionSchema.parse({})),
  );
  return judgeExec(e, ctx, programContext(ctx, new Map(Object.entries(programs).map(([k, v]) => [k, facts(v)]))));
}

describe('an exec judged with the judgment of the start watch', () => {
  it('a 1 ms binary from /tmp: writable_location, held with who ran it', () => {
    const { verdict, flagged } = judge(exec());
    expect(verdict).toBe('writable_location');
    expect(flagged).toEqual([
      {
        timeMs: t0,
        serial: 100,
        kind: 'writable_location',
        exe: '/tmp/drop/x',
        runner: undefined,
        user: 'root',
        userClass: 'root',
        pid: 5000,
        ppid: 4000,
        parentExe: '/usr/bin/bash',
        reason: 'it lies in a temporary or world-writable place (/tmp/**)',
        containerNamespace: undefined,
        container: undefined,
      },
    ]);
  });

  it('a packaged program is known and held nowhere', () => {
    expect(
      judge(exec({}, { exe: { kind: 'path', path: '/usr/bin/true', deleted: false } }), { '/usr/bin/true': { packaged: true } }),
    ).toEqual({ verdict: 'known', flagged: [] });
  });

  it('the loader running /tmp/x: the program is what is flagged, naming the loader', () => {
    const loader = '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';
    const e = exec(
      { program: { kind: 'loaded', runner: loader, path: '/tmp/drop/x', deleted: false } },
      { exe: { kind: 'path', path: loader, deleted: false } },
    );
    const { verdict, flagged } = judge(e, { [loader]: { packaged: true } }, { '/tmp/drop/x': {} });
    expect(verdict).toBe('writable_location');
    expect(flagged.map((f) => [f.kind, f.exe, f.runner])).toEqual([
      ['writable_location', '/tmp/drop/x', { field: 'loader', path: loader }],
    ]);
    expect(flagged[0]!.reason).toBe(
      `the program /tmp/drop/x run by the loader ${loader}: it lies in a temporary or world-writable place (/tmp/**)`,
    );
  });

  it('a packaged interpreter running an unknown script outside /tmp: unknown_executable of the script', () => {
    const e = exec(
      { program: { kind: 'script', runner: '/usr/bin/python3.11', path: '/opt/x/run.py', deleted: false } },
      { exe: { kind: 'path', path: '/usr/bin/python3.11', deleted: false } },
    );
    const { verdict, flagged } = judge(e, { '/usr/bin/python3.11': { packaged: true } }, { '/opt/x/run.py': {} });
    expect([verdict, flagged.map((f) => [f.kind, f.exe, f.runner?.field])]).toEqual([
      'unknown_executable',
      [['unknown_executable', '/opt/x/run.py', 'interpreter']],
    ]);
  });

  it('argv[0] dressed as a kernel thread is name_mismatch, from the EXECVE record alone', () => {
    const e = exec({}, { exe: { kind: 'path', path: '/usr/local/bin/agent', deleted: false }, comm: 'agent', argv0: '[kworker/0:1]' });
    const { verdict, flagged } = judge(e);
    expect(verdict).toBe('name_mismatch');
    expect(flagged.map((f) => f.kind)).toEqual(['name_mismatch']);
  });

  it("an exec judged as a container's (its root was another, or could not be told) is judged by its path only", () => {
    expect(judge(exec({}, { exe: { kind: 'path', path: '/app/server', deleted: false }, root: 'unreadable' }))).toEqual({
      verdict: 'other_root',
      flagged: [],
    });
    expect(judge(exec({}, { root: 'other', mountNamespace: 'mnt:[1]' })).verdict).toBe('writable_location');
  });

  it('an exec in a named container is held with its container; a package manager there is counted as container_package_manager', () => {
    const inContainer = { root: 'other', mountNamespace: 'mnt:[4026532999]' } as const;
    const { verdict, flagged } = judge(exec({ container: shop }, inContainer));
    expect(verdict).toBe('writable_location');
    expect(flagged.map((f) => [f.kind, f.containerNamespace, f.container])).toEqual([['writable_location', 'mnt:[4026532999]', shop]]);
    const apt = exec(
      { container: shop },
      { ...inContainer, exe: { kind: 'path', path: '/usr/bin/apt-get', deleted: false }, comm: 'apt-get', argv0: 'apt-get' },
    );
    expect(judge(apt)).toEqual({ verdict: 'container_package_manager', flagged: [] });
    // Without its container known (gone, and its parent too), only its path speaks.
    expect(judge({ ...apt, container: undefined })).toEqual({ verdict: 'other_root', flagged: [] });
  });
});

/** A CRI-O container of a pod, as ContainerDirectory names it from its cgroup and runc's state. */
const shop: ContainerIdentity = {
  runtime: 'cri-o',
  id: 'ab'.repeat(32),
  podUid: '6f3a0d2e-1b4c-4e8f-9a7d-2c5b8e1f0a3d',
  image: 'registry.example.com/shop/web:1.4',
  name: 'web',
  podNamespace: 'shop',
  podName: 'web-7d9f',
  imageSource: 'runtime_state',
};

const flagged = (over: Partial<FlaggedExec> = {}): FlaggedExec => ({
  timeMs: t0,
  serial: 100,
  kind: 'writable_location',
  exe: '/tmp/drop/x',
  runner: undefined,
  user: 'root',
  userClass: 'root',
  pid: 5000,
  ppid: 4000,
  parentExe: '/usr/bin/bash',
  reason: 'it lies in a temporary or world-writable place (/tmp/**)',
  containerNamespace: undefined,
  container: undefined,
  ...over,
});

describe('flagged execs held for a window', () => {
  it('a thousand runs of one dropper are one entry with a count; an exec read again after a restart is not counted twice', () => {
    const held = new FlaggedExecs();
    for (let i = 0; i < 1000; i++) held.add(flagged({ serial: 100 + i, pid: 5000 + i, timeMs: t0 + i }));
    held.add(flagged({ serial: 1099, timeMs: t0 + 999 }));
    held.add(flagged({ serial: 500, timeMs: t0 + 400 }));
    const [entry] = held.current(t0);
    expect([entry!.count, entry!.last.pid, entry!.firstMs]).toEqual([1000, 5999, t0]);
  });

  it('forgets what was last seen before the window, and keeps at most its bound (the oldest go)', () => {
    const held = new FlaggedExecs(2);
    held.add(flagged({ exe: '/tmp/a' }));
    held.add(flagged({ exe: '/tmp/b', timeMs: t0 + 10 }));
    held.add(flagged({ exe: '/tmp/c', timeMs: t0 + 20 }));
    expect(held.current(0).map((h) => h.last.exe)).toEqual(['/tmp/b', '/tmp/c']);
    expect(held.current(t0 + 15).map((h) => h.last.exe)).toEqual(['/tmp/c']);
  });

  it('survives a restart through its saved document; a broken one is refused with a reason', () => {
    const held = new FlaggedExecs();
    held.add(flagged({ runner: { field: 'interpreter', path: '/usr/bin/bash' }, exe: '/tmp/x.sh' }));
    const copy = new FlaggedExecs();
    expect(copy.load(JSON.parse(JSON.stringify(held.toJSON())))).toBeUndefined();
    expect(copy.current(0)).toEqual(held.current(0));
    expect(new FlaggedExecs().load({ version: 2 })).toBeTypeOf('string');
    const inContainer = new FlaggedExecs();
    inContainer.add(flagged({ containerNamespace: 'mnt:[4026532999]', container: shop }));
    const restored = new FlaggedExecs();
    expect(restored.load(JSON.parse(JSON.stringify(inContainer.toJSON())))).toBeUndefined();
    expect(restored.current(0).map((h) => h.last.container)).toEqual([shop]);
  });

  it('a finding per held exec whose process is gone, critical or warning by its kind; none while it still runs', () => {
    const held = new FlaggedExecs();
    held.add(flagged());
    held.add(flagged({ kind: 'unknown_executable', exe: '/opt/x', pid: 6000, reason: 'no allow rule matches it' }));
    held.add(flagged({ exe: '/tmp/still', pid: 7000 }));
    const { findings, rows } = flaggedExecFindings(held.current(0), '15m', (pid, exe) => pid === 7000 && exe === '/tmp/still');
    expect(findings.map((f) => [f.kind, f.severity, f.subject])).toEqual([
      ['flagged_exec', 'critical', { exe: '/tmp/drop/x', kind: 'writable_location', user: 'root' }],
      ['flagged_exec', 'warning', { exe: '/opt/x', kind: 'unknown_executable', user: 'root' }],
    ]);
    expect(findings[0]!.message).toBe(
      `writable_location: it lies in a temporary or world-writable place (/tmp/**); ran once in the last 15m and is gone, last at ${new Date(t0).toISOString()} (PID 5000, parent PID 4000, /usr/bin/bash)`,
    );
    expect(rows).toEqual([
      { labels: { exe: '/tmp/drop/x', user_class: 'root', kind: 'writable_location' }, value: 1 },
      { labels: { exe: '/opt/x', user_class: 'root', kind: 'unknown_executable' }, value: 1 },
    ]);
  });

  it('an exec in a container names it as container findings do; the same file in two containers is two findings', () => {
    const held = new FlaggedExecs();
    held.add(flagged({ containerNamespace: 'mnt:[4026532999]', container: shop }));
    held.add(
      flagged({
        containerNamespace: 'mnt:[4026533000]',
        container: {
          ...shop,
          id: 'cd'.repeat(32),
          podUid: undefined,
          podName: undefined,
          podNamespace: undefined,
          name: undefined,
          image: undefined,
          imageSource: 'none',
        },
      }),
    );
    // A root of its own that no runtime's cgroup names (unshare --root): its mount namespace only.
    held.add(
      flagged({ containerNamespace: 'mnt:[4026533001]', container: { ...shop, runtime: 'unknown', id: undefined, podUid: undefined } }),
    );
    const { findings } = flaggedExecFindings(held.current(0), '15m', () => false);
    expect(findings.map((f) => f.subject)).toEqual([
      {
        exe: '/tmp/drop/x',
        kind: 'writable_location',
        user: 'root',
        mount_namespace: 'mnt:[4026532999]',
        container_runtime: 'cri-o',
        container_id: 'abababababab',
        container: 'web',
        image: 'registry.example.com/shop/web:1.4',
        pod_uid: shop.podUid,
        pod_namespace: 'shop',
        pod: 'web-7d9f',
      },
      {
        exe: '/tmp/drop/x',
        kind: 'writable_location',
        user: 'root',
        mount_namespace: 'mnt:[4026533000]',
        container_runtime: 'cri-o',
        container_id: 'cdcdcdcdcdcd',
      },
      { exe: '/tmp/drop/x', kind: 'writable_location', user: 'root', mount_namespace: 'mnt:[4026533001]' },
    ]);
    expect(findings[0]!.message).toMatch(
      /^writable_location: it lies in a temporary or world-writable place \(\/tmp\/\*\*\), in cri-o container abababababab \(web, image registry\.example\.com\/shop\/web:1\.4, pod shop\/web-7d9f\); ran once/,
    );
    expect(findings[1]!.message).toContain(', in cri-o container cdcdcdcdcdcd (image unknown); ran once');
  });
});

describe('auditing switched off, from the log and from the kernel', () => {
  it('auditctl -e 0 opens a stretch; the next exec recorded ends it, and it stays known for the hold', () => {
    const auditing = new ExecAuditing(() => 'hostguard_exec');
    auditing.change({ change: 'enabled', timeMs: t0, enabled: false, auid: 1000 });
    expect(auditing.ongoing()).toEqual(['disabled']);
    const [open] = execSourceFindings({
      path: '/var/log/audit/audit.log',
      health: 'ok',
      reason: undefined,
      offPeriods: auditing.periods(t0 + 1000, 60_000),
    });
    expect([open!.kind, open!.severity, open!.subject]).toEqual(['exec_auditing_off', 'critical', { reason: 'disabled' }]);
    expect(open!.message).toBe(
      `auditing was switched off since ${new Date(t0).toISOString()}: execs are not recorded (CONFIG_CHANGE audit_enabled=0 by login uid 1000 (auditctl -e 0))`,
    );
    auditing.execSeen(t0 + 5000, ['hostguard_exec']);
    expect(auditing.ongoing()).toEqual([]);
    const [over] = execSourceFindings({ path: '/x', health: 'ok', reason: undefined, offPeriods: auditing.periods(t0 + 6000, 60_000) });
    expect(over!.message).toContain(
      `from ${new Date(t0).toISOString()} to ${new Date(t0 + 5000).toISOString()}: execs of that time were not recorded`,
    );
    expect(auditing.periods(t0 + 5000 + 60_000, 60_000)).toEqual([]);
  });

  it('the exec rules removed (by their key); added back, or an exec of that key, ends it; other keys do not count', () => {
    const auditing = new ExecAuditing(() => 'hostguard_exec');
    auditing.change({ change: 'rule_removed', timeMs: t0, keys: ['identity'], auid: undefined });
    expect(auditing.ongoing()).toEqual([]);
    auditing.change({ change: 'rule_removed', timeMs: t0, keys: ['hostguard_exec'], auid: undefined });
    auditing.execSeen(t0 + 1, ['cis_exec']);
    expect(auditing.ongoing()).toEqual(['rules_removed']);
    auditing.change({ change: 'rule_added', timeMs: t0 + 2, keys: ['hostguard_exec'], auid: undefined });
    expect(auditing.ongoing()).toEqual([]);
  });

  it("auditd stopping; and the kernel's answer, which says how things are now", () => {
    const auditing = new ExecAuditing(() => 'hostguard_exec');
    auditing.change({ change: 'daemon_stopped', timeMs: t0 });
    expect(auditing.ongoing()).toEqual(['daemon_stopped']);
    auditing.kernel({
      atMs: t0 + 10,
      status: { enabled: 1, daemonPid: 612, lost: 0, backlog: 0, backlogLimit: 8192 },
      ruleKeys: new Set(['hostguard_exec']),
    });
    expect(auditing.ongoing()).toEqual([]);
    auditing.kernel({ atMs: t0 + 20, status: { enabled: 0, daemonPid: 0, lost: 0, backlog: 0, backlogLimit: 8192 }, ruleKeys: new Set() });
    expect(auditing.ongoing().sort()).toEqual(['daemon_stopped', 'disabled', 'rules_removed']);
  });

  it('a log that cannot be read is exec_source_unavailable', () => {
    const [f] = execSourceFindings({ path: '/var/log/audit/audit.log', health: 'missing', reason: 'ENOENT: no such file', offPeriods: [] });
    expect([f!.kind, f!.severity, f!.subject, f!.message]).toEqual([
      'exec_source_unavailable',
      'warning',
      { path: '/var/log/audit/audit.log' },
      'the audit log /var/log/audit/audit.log cannot be read (missing: ENOENT: no such file): execs are not seen',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { processesSectionSchema } from '../../src/config/sections/processes.js';
import { judgedExePath, type ExecutableFacts, type HostView, type ObservedProcess } from '../../src/processes/host-view.js';
import {
  argv0Name,
  judgeContext,
  judgeProcess,
  kernelNameStem,
  startVerdict,
  type JudgedProcess,
  type ProcessVerdict,
} from '../../src/processes/judge.js';
import { learnProcesses } from '../../src/processes/learn.js';
import { readProcessBaseline } from '../../src/processes/process-baseline.js';
import { compileProcessPolicy } from '../../src/processes/process-policy.js';
import { VerdictSummary } from '../../src/processes/verdict-summary.js';

/** Judgment is pure: these tests build what observation would have seen, as plain objects. */

const now = 1_800_000_000;

function proc(overrides: Partial<ObservedProcess> & { exePath?: string; deleted?: boolean } = {}): ObservedProcess {
  const { exePath = '/usr/bin/sleep', deleted = false, ...rest } = overrides;
  return {
    pid: 4000,
    ppid: 300,
    comm: exePath.split('/').pop()!.slice(0, 15),
    argv0: exePath,
    cmdlineEmpty: false,
    kernelThread: false,
    state: 'S',
    euid: 0,
    user: 'root',
    userClass: 'root',
    exe: { kind: 'path', path: exePath, deleted },
    parentExe: '/usr/bin/bash',
    cpuSeconds: 1,
    cpuCores: 0.01,
    rssBytes: 10 * 2 ** 20,
    startedAt: now - 3600,
    mountNamespace: undefined,
    root: 'host',
    stalled: false,
    ...rest,
  };
}

const kworker: ObservedProcess = {
  ...proc(),
  pid: 7,
  ppid: 2,
  comm: 'kworker/0:1-events',
  argv0: '',
  cmdlineEmpty: true,
  kernelThread: true,
  exe: { kind: 'none' },
  parentExe: undefined,
};

function hostView(
  processes: ObservedProcess[],
  facts: Record<string, Partial<ExecutableFacts>> = {},
  extra: Partial<HostView> = {},
): HostView {
  const executables = new Map<string, ExecutableFacts>();
  for (const p of processes) {
    const path = judgedExePath(p);
    if (path !== undefined && !executables.has(path)) {
      executables.set(path, { packaged: false, worldWritable: false, replacedAt: undefined, ...facts[path] });
    }
  }
  return { processes, executables, homeDirectories: ['/home/alice', '/root'], dpkgChangedAt: now - 86400, ...extra };
}

function policyOf(section: unknown = {}) {
  return compileProcessPolicy(processesSectionSchema.parse(section));
}

function judgeAll(
  processes: ObservedProcess[],
  options: {
    policy?: unknown;
    facts?: Record<string, Partial<ExecutableFacts>>;
    baseline?: Record<string, unknown>;
    view?: Partial<HostView>;
  } = {},
) {
  const view = hostView(processes, options.facts, options.view);
  const ctx = judgeContext(view, policyOf(options.policy), readProcessBaseline(options.baseline as never));
  return processes.map((p) => judgeProcess(p, ctx));
}

function judgeOne(p: ObservedProcess, options: Parameters<typeof judgeAll>[1] = {}): JudgedProcess {
  const verdict = judgeAll([p, kworker], options)[0]!;
  if (verdict.status !== 'judged') throw new Error(`not judged: ${verdict.status}`);
  return verdict;
}

const packaged = (path: string) => ({ [path]: { packaged: true } });

describe('what makes an executable known', () => {
  it('an executable that an installed package owns is known without any rule or baseline', () => {
    const v = judgeOne(proc(), { facts: packaged('/usr/bin/sleep') });
    expect([v.knownBy, v.kinds]).toEqual(['package', []]);
  });

  it('a binary nobody accounts for is unknown_executable', () => {
    const v = judgeOne(proc({ exePath: '/opt/miner/xmrig' }));
    expect(v.kinds).toEqual(['unknown_executable']);
    expect(v.reasons.unknown_executable).toBe('no allow rule matches it, it is not in the baseline, and no installed package owns it');
  });

  it('packaged executables count only while the policy says so', () => {
    const v = judgeOne(proc(), { facts: packaged('/usr/bin/sleep'), policy: { packaged_executables: false } });
    expect(v.kinds).toEqual(['unknown_executable']);
  });

  it('an allow rule or a baseline entry makes an unpackaged binary known', () => {
    expect(judgeOne(proc({ exePath: '/opt/app/bin/app' }), { policy: { allow: [{ exe: '/opt/app/**' }] } }).knownBy).toBe('policy');
    expect(judgeOne(proc({ exePath: '/opt/app/bin/app' }), { baseline: { '/opt/app/bin/app': { daemon_users: [] } } }).knownBy).toBe(
      'baseline',
    );
  });

  it('a rule with a parent matches only under that parent; the next rule is tried otherwise', () => {
    const policy = { allow: [{ exe: '/usr/bin/python3*', parent: '/usr/sbin/cron', users: ['backup'] }, { exe: '/usr/bin/python3*' }] };
    const underCron = judgeOne(proc({ exePath: '/usr/bin/python3.11', parentExe: '/usr/sbin/cron' }), { policy });
    const underShell = judgeOne(proc({ exePath: '/usr/bin/python3.11', parentExe: '/usr/bin/bash' }), { policy });
    expect(underCron.kinds).toEqual(['unexpected_user']);
    expect(underCron.reasons.unexpected_user).toContain('allow rule 1 (processes.allow[0]) allows only backup');
    expect(underShell.kinds).toEqual([]);
  });

  it('first match wins: a rule that allows any user ends the search before a stricter one', () => {
    const policy = { allow: [{ exe: '/usr/sbin/*' }, { exe: '/usr/sbin/nginx', users: ['www-data'] }] };
    expect(judgeOne(proc({ exePath: '/usr/sbin/nginx', user: 'mallory', userClass: 'regular' }), { policy }).kinds).toEqual([]);
  });

  it('kernel threads are never judged, zombies have nothing to judge, unreadable executables are unjudged', () => {
    const zombie = proc({ state: 'Z', exe: { kind: 'none' } } as Partial<ObservedProcess>);
    const hidden = proc({ exe: { kind: 'unreadable', problem: 'denied' } } as Partial<ObservedProcess>);
    const [k, z, h] = judgeAll([kworker, zombie, hidden]);
    expect([k!.status, z!.status, h!.status]).toEqual(['kernel_thread', 'no_executable', 'unjudged']);
    expect(h).toMatchObject({ reason: 'permission_denied' });
  });
});

describe('unexpected users', () => {
  it('an allowed binary under a user its rule does not list is unexpected_user', () => {
    const v = judgeOne(proc({ exePath: '/usr/sbin/sshd', user: 'nobody', euid: 65534, userClass: 'system' }), {
      policy: { allow: [{ exe: '/usr/sbin/sshd', users: ['root'] }] },
    });
    expect(v.kinds).toEqual(['unexpected_user']);
    expect(v.reasons.unexpected_user).toBe('runs as nobody; allow rule 1 (processes.allow[0]) allows only root');
  });

  it('a daemon running as a system account the baseline never saw it run as is unexpected_user', () => {
    const baseline = { '/usr/sbin/sshd': { daemon_users: ['root'] } };
    const backdoor = proc({ exePath: '/usr/sbin/sshd', ppid: 1, user: 'www-data', euid: 33, userClass: 'system' });
    const v = judgeOne(backdoor, { baseline, facts: packaged('/usr/sbin/sshd') });
    expect(v.kinds).toEqual(['unexpected_user']);
    expect(v.reasons.unexpected_user).toBe('runs as a daemon under www-data; the baseline saw it as a daemon only under root');
  });

  it('sessions are not judged by the baseline: a new user logging in is not an alarm', () => {
    const baseline = { '/usr/sbin/sshd': { daemon_users: ['root'] }, '/usr/lib/systemd/systemd': { daemon_users: ['root'] } };
    const perLogin = proc({ exePath: '/usr/sbin/sshd', ppid: 900, user: 'bob', euid: 1001, userClass: 'regular' });
    const userManager = proc({ exePath: '/usr/lib/systemd/systemd', ppid: 1, user: 'bob', euid: 1001, userClass: 'regular' });
    expect(judgeAll([perLogin, userManager], { baseline }).flatMap((v) => (v.status === 'judged' ? v.kinds : []))).toEqual([]);
  });
});

describe('where an executable lies', () => {
  it('a binary in /tmp is writable_location and unknown; a deleted one is deleted_executable as well', () => {
    const v = judgeOne(proc({ exePath: '/tmp/.x/miner', deleted: true }));
    expect(v.kinds).toEqual(['deleted_executable', 'writable_location', 'unknown_executable']);
    expect(v.reasons.writable_location).toBe('it lies in a temporary or world-writable place (/tmp/**)');
  });

  it('an allow rule does not silence a writable location; only an explicit exception does', () => {
    expect(judgeOne(proc({ exePath: '/dev/shm/x' }), { policy: { allow: [{ exe: '/dev/shm/x' }] } }).kinds).toEqual(['writable_location']);
    expect(
      judgeOne(proc({ exePath: '/dev/shm/x' }), {
        policy: { allow: [{ exe: '/dev/shm/x' }], writable_locations: { except: ['/dev/shm/x'] } },
      }).kinds,
    ).toEqual([]);
  });

  it('a memfd is a writable location, not a deleted executable', () => {
    const v = judgeOne(proc({ exePath: '/memfd:payload', deleted: true }));
    expect(v.kinds).toEqual(['writable_location', 'unknown_executable']);
    expect(v.reasons.writable_location).toBe('it runs from a memfd, a file that exists only in memory');
  });

  it("runc's init, run from a detached mount of runc itself, is judged as the runc its parent runs", () => {
    const init = (parentExe: string, runsParentExe: boolean) =>
      proc({ exePath: '/', comm: 'runc:[0:PARENT]', argv0: 'runc', parentExe, ...(runsParentExe ? { runsParentExe } : {}) });
    const packagedRunc = judgeOne(init('/usr/sbin/runc', true), { facts: packaged('/usr/sbin/runc') });
    expect([packagedRunc.exe, packagedRunc.knownBy, packagedRunc.kinds]).toEqual(['/usr/sbin/runc', 'package', []]);
    // A runc of nobody's, in /tmp: its init is what its parent is.
    const plantedRunc = judgeOne(init('/tmp/runc', true));
    expect([plantedRunc.exe, plantedRunc.kinds]).toEqual(['/tmp/runc', ['writable_location', 'unknown_executable']]);
    // Another file on a detached mount under a packaged runc is judged by the path it shows.
    const other = judgeOne(init('/usr/sbin/runc', false), { facts: packaged('/usr/sbin/runc') });
    expect([other.exe, other.kinds]).toEqual(['/', ['unknown_executable']]);
  });

  it('a world-writable directory counts even outside the usual places', () => {
    expect(
      judgeOne(proc({ exePath: '/srv/uploads/run' }), {
        facts: { '/srv/uploads/run': { worldWritable: true } },
        policy: { allow: [{ exe: '/srv/**' }] },
      }).kinds,
    ).toEqual(['writable_location']);
  });

  it('home directories count when the policy says so', () => {
    const inHome = proc({ exePath: '/home/alice/bin/tool' });
    expect(judgeOne(inHome, { baseline: { '/home/alice/bin/tool': { daemon_users: [] } } }).kinds).toEqual([]);
    expect(
      judgeOne(inHome, {
        baseline: { '/home/alice/bin/tool': { daemon_users: [] } },
        policy: { writable_locations: { home_directories: true } },
      }).reasons,
    ).toEqual({
      writable_location: 'it lies under the home directory /home/alice',
    });
  });

  it('an executable replaced by a package upgrade after the process started needs a restart, not an alarm', () => {
    const sshd = proc({ exePath: '/usr/sbin/sshd', deleted: true, startedAt: now - 3600 });
    const upgraded = judgeOne(sshd, {
      facts: { '/usr/sbin/sshd': { packaged: true, replacedAt: now - 60 } },
      view: { dpkgChangedAt: now - 30 },
    });
    expect([upgraded.kinds, upgraded.outdated]).toEqual([[], true]);
    // The same file swapped while dpkg did nothing is an intruder's doing.
    const swapped = judgeOne(sshd, {
      facts: { '/usr/sbin/sshd': { packaged: true, replacedAt: now - 60 } },
      view: { dpkgChangedAt: now - 86400 },
    });
    expect([swapped.kinds, swapped.outdated]).toEqual([['deleted_executable'], false]);
  });
});

describe('names that lie', () => {
  const sleepPackaged = packaged('/usr/bin/sleep');

  it('argv[0] in brackets makes a userland process look like a kernel thread in ps', () => {
    const v = judgeOne(proc({ argv0: '[kworker/0:7]' }), { facts: sleepPackaged });
    expect(v.kinds).toEqual(['name_mismatch']);
    expect(v.claimedName).toBe('[kworker/0:7]');
  });

  it('a Celery worker titled [celeryd: celery@host:ForkPoolWorker-1] is no fake kernel thread: kernel thread names have no spaces', () => {
    const celery = proc({ exePath: '/usr/bin/python3.11', comm: 'celery', argv0: '[celeryd: celery@web1:ForkPoolWorker-1]' });
    expect(judgeOne(celery, { facts: packaged('/usr/bin/python3.11') }).kinds).toEqual([]);
  });

  it('a comm named like a running kernel thread is name_mismatch, unless the binary is really called so', () => {
    const renamed = proc({ exePath: '/usr/bin/perl', comm: 'kworker/3:1', argv0: 'perl' });
    expect(judgeOne(renamed, { facts: packaged('/usr/bin/perl') }).kinds).toEqual(['name_mismatch']);
    const honest = proc({ exePath: '/usr/sbin/watchdog', comm: 'watchdog', argv0: '/usr/sbin/watchdog' });
    expect(judgeOne(honest, { facts: packaged('/usr/sbin/watchdog') }).kinds).toEqual([]);
  });

  it('an empty command line shows as [comm] in ps', () => {
    expect(judgeOne(proc({ cmdlineEmpty: true, argv0: '' }), { facts: sleepPackaged }).kinds).toEqual(['name_mismatch']);
  });

  it('"sshd" whose executable is not sshd is name_mismatch; sshd retitling itself is not', () => {
    const fake = proc({ exePath: '/var/lib/.cache/dbus', comm: 'dbus', argv0: '/usr/sbin/sshd -D' });
    expect(judgeOne(fake, { baseline: { '/var/lib/.cache/dbus': { daemon_users: [] } } }).reasons.name_mismatch).toBe(
      'it calls itself "sshd", but runs /var/lib/.cache/dbus, which is not a sshd executable',
    );
    const real = proc({ exePath: '/usr/sbin/sshd', comm: 'sshd', argv0: 'sshd: alice@pts/0' });
    expect(judgeOne(real, { facts: packaged('/usr/sbin/sshd') }).kinds).toEqual([]);
  });

  it('reads the name argv[0] shows, and the stem of kernel thread names', () => {
    expect(['sshd: root@pts/0', '/usr/sbin/nginx -g daemon off;', 'postgres: checkpointer', ''].map(argv0Name)).toEqual([
      'sshd',
      'nginx',
      'postgres',
      '',
    ]);
    expect(['kworker/0:1H-kblockd', 'kswapd0', 'jbd2/sda1-8', 'rcu_preempt', 'kdamond.0'].map(kernelNameStem)).toEqual([
      'kworker',
      'kswapd',
      'jbd',
      'rcu_preempt',
      'kdamond',
    ]);
  });
});

describe('resource hogs', () => {
  it('an unknown process above the CPU or memory limit is resource_hog as well', () => {
    const miner = proc({ exePath: '/opt/x/xmrig', cpuCores: 1.9, rssBytes: 2 * 2 ** 30 });
    const v = judgeOne(miner);
    expect(v.kinds).toEqual(['unknown_executable', 'resource_hog']);
    expect(v.reasons.resource_hog).toBe(
      'it uses 1.90 CPU cores (limit 0.5) and 2048 MiB resident (limit 1024 MiB) while not accounted for',
    );
  });

  it('a known process may use what it likes', () => {
    expect(judgeOne(proc({ cpuCores: 2, rssBytes: 8 * 2 ** 30 }), { facts: packaged('/usr/bin/sleep') }).kinds).toEqual([]);
  });
});

describe('verdicts become findings, metric rows and start verdicts', () => {
  it('groups processes by kind, executable and user, with the PIDs in the message only', () => {
    const workers = [101, 102, 103].map((pid) => proc({ pid, exePath: '/tmp/x' }));
    const summary = VerdictSummary.of(judgeAll([...workers, kworker]));
    const findings = summary.findings();
    expect(findings.map((f) => [f.kind, f.severity, f.subject])).toEqual([
      ['writable_location', 'critical', { exe: '/tmp/x', user: 'root' }],
      ['unknown_executable', 'warning', { exe: '/tmp/x', user: 'root' }],
    ]);
    expect(findings[0]!.message).toMatch(/\(3 processes, PIDs 101, 102, 103\)$/);
    expect([summary.userland, summary.kernelThreads]).toEqual([3, 1]);
    expect(summary.flaggedRows).toHaveLength(6);
  });

  it('a start is counted once, by its most severe kind', () => {
    const verdicts: ProcessVerdict[] = judgeAll(
      [proc({ exePath: '/tmp/x' }), proc(), kworker, proc({ exe: { kind: 'none' } } as Partial<ObservedProcess>)],
      { facts: packaged('/usr/bin/sleep') },
    );
    expect(verdicts.map(startVerdict)).toEqual(['writable_location', 'known', 'kernel_thread', 'unexamined']);
    expect(startVerdict(undefined)).toBe('unexamined');
  });
});

describe('learning a baseline', () => {
  it('records what the policy and packages do not cover, and the users of daemons; never an implant in /tmp', () => {
    const processes = [
      proc({ pid: 10, exePath: '/usr/sbin/sshd', ppid: 1 }),
      proc({ pid: 11, exePath: '/usr/sbin/sshd', ppid: 10, user: 'alice', userClass: 'regular' }),
      proc({ pid: 12, exePath: '/usr/bin/sleep' }),
      proc({ pid: 13, exePath: '/opt/app/bin/app', ppid: 1, user: 'www-data', userClass: 'system' }),
      proc({ pid: 14, exePath: '/opt/tools/report' }),
      proc({ pid: 15, exePath: '/usr/local/bin/allowed' }),
      proc({ pid: 16, exePath: '/tmp/implant' }),
      proc({ pid: 17, exePath: '/opt/gone', deleted: true }),
      proc({ pid: 18, exePath: '/opt/fake', argv0: '[kworker/1:0]' }),
      kworker,
    ];
    const view = hostView(processes, { ...packaged('/usr/sbin/sshd'), ...packaged('/usr/bin/sleep') });
    expect(learnProcesses(view, policyOf({ allow: [{ exe: '/usr/local/bin/*' }] }))).toEqual({
      '/opt/app/bin/app': { daemon_users: ['www-data'] },
      '/opt/tools/report': { daemon_users: [] },
      '/usr/sbin/sshd': { daemon_users: ['root'] },
    });
  });

  it('ignores baseline entries of the wrong shape, and says which', () => {
    const baseline = readProcessBaseline({ '/opt/a': { daemon_users: ['root'] }, '/opt/b': { users: 'root' }, '/opt/c': 'yes' });
    expect([...baseline!.entries.keys()]).toEqual(['/opt/a']);
    expect(baseline!.invalid).toEqual(['/opt/b', '/opt/c']);
  });
});

describe("sandboxed processes: another mount namespace, the host's root", () => {
  // systemd's PrivateTmp, ProtectSystem and ProtectHome (logind, resolved, this exporter's own
  // unit) and `unshare -m` give a process a mount namespace of its own, but its executable path
  // still names the host's file.
  const sandboxed = (overrides: Parameters<typeof proc>[0] = {}) =>
    proc({ mountNamespace: 'mnt:[4026532500]', root: 'host', ...overrides });

  it('an implant started with `unshare -m` is unknown_executable, as on the host', () => {
    const v = judgeOne(sandboxed({ exePath: '/opt/implant/run' }));
    expect([v.kinds, v.knownBy, v.containerNamespace]).toEqual([['unknown_executable'], 'unknown', undefined]);
  });

  it("a sandboxed daemon is judged by the host's packages, baseline and users", () => {
    expect(
      judgeOne(sandboxed({ exePath: '/usr/lib/systemd/systemd-logind', ppid: 1 }), { facts: packaged('/usr/lib/systemd/systemd-logind') })
        .knownBy,
    ).toBe('package');
    const daemon = sandboxed({ exePath: '/opt/agent/bin/agent', ppid: 1, user: 'www-data', userClass: 'system' });
    expect(judgeOne(daemon, { baseline: { '/opt/agent/bin/agent': { daemon_users: ['agent'] } } }).kinds).toEqual(['unexpected_user']);
  });

  it('a sandboxed daemon whose executable a package upgrade replaced needs a restart: no deleted_executable', () => {
    const node = sandboxed({ exePath: '/usr/bin/node', deleted: true, ppid: 1, startedAt: now - 3600 });
    const v = judgeOne(node, { view: { dpkgChangedAt: now - 30 }, facts: { '/usr/bin/node': { packaged: true, replacedAt: now - 60 } } });
    expect([v.kinds, v.outdated]).toEqual([[], true]);
  });

  it('a sandboxed process whose executable was deleted outside any upgrade is deleted_executable', () => {
    expect(
      judgeOne(sandboxed({ exePath: '/opt/tool/run', deleted: true }), { policy: { allow: [{ exe: '/opt/tool/run' }] } }).kinds,
    ).toEqual(['deleted_executable']);
  });
});

describe("processes in containers (another root than the host's)", () => {
  const containerNamespace = 'mnt:[4026532999]';
  const inContainer = (overrides: Parameters<typeof proc>[0] = {}) =>
    proc({ mountNamespace: containerNamespace, root: 'other', ...overrides });

  it('a container process running /usr/bin/sleep has no finding, and its identity is not judged', () => {
    const v = judgeOne(inContainer());
    expect([v.kinds, v.knownBy, v.containerNamespace]).toEqual([[], 'not_judged', containerNamespace]);
  });

  it("a process whose root could not be stat'ed is judged as a container's", () => {
    const v = judgeOne(inContainer({ exePath: '/app/server', root: 'unreadable' }));
    expect([v.kinds, v.knownBy, v.containerNamespace]).toEqual([[], 'not_judged', containerNamespace]);
  });

  it('an executable that no host rule, baseline or package knows is not unknown_executable, nor an unexpected user or a hog', () => {
    const server = inContainer({
      exePath: '/app/server',
      ppid: 1,
      user: 'mallory',
      userClass: 'regular',
      cpuCores: 3,
      rssBytes: 4 * 2 ** 30,
    });
    expect(judgeOne(server).kinds).toEqual([]);
    const policy = { allow: [{ exe: '/app/server', users: ['www-data'] }] };
    expect(judgeOne(server, { policy, baseline: { '/app/server': { daemon_users: ['root'] } } }).kinds).toEqual([]);
  });

  it("a miner dropped in a container's /tmp, or run from a memfd, is writable_location", () => {
    const miner = judgeOne(inContainer({ exePath: '/tmp/.x/xmrig', cpuCores: 3 }));
    expect(miner.kinds).toEqual(['writable_location']);
    expect(miner.reasons.writable_location).toBe('it lies in a temporary or world-writable place (/tmp/**)');
    const fileless = judgeOne(inContainer({ exePath: '/memfd:payload', deleted: true }));
    expect(fileless.kinds).toEqual(['writable_location']);
    expect(fileless.reasons.writable_location).toBe('it runs from a memfd, a file that exists only in memory');
  });

  it("the policy's exceptions hold in containers too", () => {
    expect(
      judgeOne(inContainer({ exePath: '/dev/shm/supervisor' }), { policy: { writable_locations: { except: ['/dev/shm/supervisor'] } } })
        .kinds,
    ).toEqual([]);
  });

  it("the host's files say nothing about a container's path: a world-writable host directory or a host home directory is no finding", () => {
    const upload = inContainer({ exePath: '/srv/uploads/run' });
    expect(judgeOne(upload, { facts: { '/srv/uploads/run': { worldWritable: true } } }).kinds).toEqual([]);
    const tool = inContainer({ exePath: '/home/alice/bin/tool' });
    expect(judgeOne(tool, { policy: { writable_locations: { home_directories: true } } }).kinds).toEqual([]);
  });

  it("a deleted executable is no finding: an upgrade inside a system container, or the host's docker-init after the host upgraded docker", () => {
    const upgraded = judgeOne(inContainer({ exePath: '/usr/sbin/cron', deleted: true, ppid: 1 }));
    expect([upgraded.kinds, upgraded.outdated]).toEqual([[], false]);
    const init = judgeOne(inContainer({ exePath: '/sbin/docker-init', deleted: true, ppid: 0 }), { view: { dpkgChangedAt: now - 30 } });
    expect([init.kinds, init.outdated]).toEqual([[], false]);
    // Deleted from a writable place, it is still found there.
    expect(judgeOne(inContainer({ exePath: '/dev/shm/x', deleted: true })).kinds).toEqual(['writable_location']);
  });

  it('a kernel-thread title, an empty command line or a comm named like a kernel thread is name_mismatch', () => {
    const titled = judgeOne(inContainer({ argv0: '[kworker/0:1]' }));
    expect([titled.kinds, titled.claimedName]).toEqual([['name_mismatch'], '[kworker/0:1]']);
    expect(judgeOne(inContainer({ cmdlineEmpty: true, argv0: '' })).kinds).toEqual(['name_mismatch']);
    expect(judgeOne(inContainer({ exePath: '/usr/bin/perl', comm: 'kswapd0', argv0: 'perl' })).kinds).toEqual(['name_mismatch']);
  });

  it('protected names are not judged: images put their daemons where Debian does not (httpd in /usr/local/apache2)', () => {
    const httpd = inContainer({ exePath: '/usr/local/apache2/bin/httpd', comm: 'httpd', argv0: 'httpd -DFOREGROUND' });
    expect(judgeOne(httpd).kinds).toEqual([]);
    // The same process on the host is a name_mismatch.
    expect(judgeOne({ ...httpd, root: 'host' }, { policy: { allow: [{ exe: '/usr/local/apache2/**' }] } }).kinds).toEqual([
      'name_mismatch',
    ]);
  });

  it("findings say the process is in a container and name its mount namespace; the host's /tmp/x is another finding", () => {
    const processes = [
      inContainer({ pid: 201, exePath: '/tmp/x' }),
      inContainer({ pid: 202, exePath: '/tmp/x' }),
      proc({ pid: 301, exePath: '/tmp/x' }),
      kworker,
    ];
    const summary = VerdictSummary.of(judgeAll(processes));
    const findings = summary.findings().map((f) => [f.kind, f.subject, f.message]);
    expect(findings).toEqual([
      [
        'writable_location',
        { exe: '/tmp/x', user: 'root', mount_namespace: containerNamespace },
        `it lies in a temporary or world-writable place (/tmp/**), in a container (another root than the host's, mount namespace ${containerNamespace}) (2 processes, PIDs 201, 202)`,
      ],
      ['writable_location', { exe: '/tmp/x', user: 'root' }, 'it lies in a temporary or world-writable place (/tmp/**) (PID 301)'],
      [
        'unknown_executable',
        { exe: '/tmp/x', user: 'root' },
        'no allow rule matches it, it is not in the baseline, and no installed package owns it (PID 301)',
      ],
    ]);
    expect([summary.userland, summary.inContainers, summary.unjudged]).toEqual([3, 2, { permission_denied: 0, malformed: 0 }]);
  });

  it('an unreadable executable is unjudged in a container as on the host', () => {
    const [v] = judgeAll([inContainer({ exe: { kind: 'unreadable', problem: 'denied' } } as Partial<ObservedProcess>)]);
    expect(v).toMatchObject({ status: 'unjudged', reason: 'permission_denied' });
  });

  it('a start in a container counts by its kind, or as other_root without one: never as known', () => {
    const verdicts = judgeAll([inContainer({ exePath: '/dev/shm/x' }), inContainer({ exePath: '/app/server' })]);
    expect(verdicts.map(startVerdict)).toEqual(['writable_location', 'other_root']);
  });

  it("learning never takes a container's executables into the host's baseline", () => {
    const processes = [
      inContainer({ pid: 20, exePath: '/app/server', ppid: 1 }),
      proc({ pid: 21, exePath: '/opt/tools/report', mountNamespace: 'mnt:[4026532500]' }),
    ];
    expect(learnProcesses(hostView(processes), policyOf())).toEqual({ '/opt/tools/report': { daemon_users: [] } });
  });
});

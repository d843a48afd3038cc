import { describe, expect, it } from 'vitest';
import { defaultInterpreters, processesSectionSchema } from '../../src/config/sections/processes.js';
import { parseArguments } from '../../src/procfs/cmdline.js';
import { parsePreload } from '../../src/procfs/environ.js';
import { isTerminal } from '../../src/procfs/fd.js';
import { parseExecutableMappings } from '../../src/procfs/maps.js';
import type { CodeView } from '../../src/processes/code-view.js';
import type { ExecutableFacts, HostView, ObservedProcess } from '../../src/processes/host-view.js';
import { compileInterpreters } from '../../src/processes/interpreters.js';
import { judgeContext } from '../../src/processes/judge.js';
import { InjectedSummary, judgeInjected } from '../../src/processes/judge-injected.js';
import type { ContainerIdentity } from '../../src/containers/identity.js';
import {
  isMaintainerScript,
  judgeProgram,
  programContext,
  ProgramSummary,
  type ProgramTarget,
} from '../../src/processes/judge-programs.js';
import { learnProcesses } from '../../src/processes/learn.js';
import { readProcessBaseline } from '../../src/processes/process-baseline.js';
import { compileProcessPolicy } from '../../src/processes/process-policy.js';
import { whatRuns, type RunTarget } from '../../src/processes/what-runs.js';

/** What an interpreter or the loader runs, and how that is judged: pure, on plain objects. */

const interpreters = compileInterpreters([...defaultInterpreters]);
const runs = (exe: string, argv: string[], cwd: string | undefined = '/srv'): RunTarget => whatRuns(exe, argv, cwd, interpreters);
const script = (runner: string, path: string, relative = false): RunTarget => ({ kind: 'script', runner, path, relative });
const inline = (runner: string, via: 'argument' | 'stdin'): RunTarget => ({ kind: 'inline', runner, via });
const none: RunTarget = { kind: 'none' };

describe('what an interpreter runs: the first operand, inline code, or stdin', () => {
  const cases: Array<[string, string, string[], RunTarget]> = [
    ['a script given to bash', '/usr/bin/bash', ['bash', '/tmp/evil.sh', 'arg'], script('/usr/bin/bash', '/tmp/evil.sh')],
    [
      'a #! script (the kernel puts interpreter, options and script first)',
      '/usr/bin/dash',
      ['/bin/sh', '-e', '/etc/cron.daily/apt-compat'],
      script('/usr/bin/dash', '/etc/cron.daily/apt-compat'),
    ],
    [
      'a relative script, resolved against the working directory',
      '/usr/bin/bash',
      ['bash', './run.sh'],
      script('/usr/bin/bash', '/srv/run.sh', true),
    ],
    [
      'shell options with an argument are skipped',
      '/usr/bin/bash',
      ['bash', '-o', 'pipefail', '+O', 'extglob', '--rcfile', '/x', '/opt/job.sh'],
      script('/usr/bin/bash', '/opt/job.sh'),
    ],
    ['sh -c: the first operand is code', '/usr/bin/dash', ['sh', '-c', 'curl x | sh'], inline('/usr/bin/dash', 'argument')],
    ['bash -lc (clustered)', '/usr/bin/bash', ['bash', '-lc', 'id'], inline('/usr/bin/bash', 'argument')],
    ['sh alone reads stdin (curl … | sh)', '/usr/bin/dash', ['sh'], inline('/usr/bin/dash', 'stdin')],
    ['sh -s with operands reads stdin', '/usr/bin/dash', ['sh', '-s', '--', 'a'], inline('/usr/bin/dash', 'stdin')],
    ['bash <(curl …): a descriptor is code piped in', '/usr/bin/bash', ['bash', '/dev/fd/63'], inline('/usr/bin/bash', 'stdin')],
    [
      'python script with clustered flags',
      '/usr/bin/python3.11',
      ['/usr/bin/python3', '-Es', '/usr/sbin/unattended-upgrade'],
      script('/usr/bin/python3.11', '/usr/sbin/unattended-upgrade'),
    ],
    [
      'python -W takes an argument',
      '/usr/bin/python3.11',
      ['python3', '-W', 'ignore', '/tmp/x.py'],
      script('/usr/bin/python3.11', '/tmp/x.py'),
    ],
    ['python -Wignore attached', '/usr/bin/python3.11', ['python3', '-Wignore', 'x.py'], script('/usr/bin/python3.11', '/srv/x.py', true)],
    ['python -c', '/usr/bin/python3.11', ['python3', '-c', 'import os'], inline('/usr/bin/python3.11', 'argument')],
    ['python -m runs a module, no file', '/usr/bin/python3.11', ['python3', '-m', 'http.server'], none],
    ['python --version runs nothing', '/usr/bin/python3.11', ['python3', '--version'], none],
    ['perl -ne', '/usr/bin/perl', ['perl', '-ne', 'print', 'file'], inline('/usr/bin/perl', 'argument')],
    ['perl -i.bak -pe', '/usr/bin/perl', ['perl', '-i.bak', '-pe', 's/a/b/', 'f'], inline('/usr/bin/perl', 'argument')],
    ['perl -I dir script', '/usr/bin/perl', ['perl', '-I', '/opt/lib', '-MFoo', '/opt/x.pl'], script('/usr/bin/perl', '/opt/x.pl')],
    ['awk program text is inline', '/usr/bin/mawk', ['awk', '-F:', '{print $1}', '/etc/passwd'], inline('/usr/bin/mawk', 'argument')],
    ['awk -f program file', '/usr/bin/mawk', ['awk', '-f', '/tmp/p.awk', 'in'], script('/usr/bin/mawk', '/tmp/p.awk')],
    [
      'node with --flag=value options',
      '/usr/bin/node',
      ['node', '--max-semi-space-size=1', '/usr/lib/app/main.js'],
      script('/usr/bin/node', '/usr/lib/app/main.js'),
    ],
    ['node -r module script', '/usr/bin/node', ['node', '-r', 'ts-node/register', 'x.ts'], script('/usr/bin/node', '/srv/x.ts', true)],
    ['node -e', '/usr/bin/node', ['node', '-e', 'require("child_process")'], inline('/usr/bin/node', 'argument')],
    ['php -r', '/usr/bin/php8.2', ['php', '-r', 'system("id");'], inline('/usr/bin/php8.2', 'argument')],
    ['php -f file', '/usr/bin/php8.2', ['php', '-f', '/var/www/x.php'], script('/usr/bin/php8.2', '/var/www/x.php')],
    ['ruby -e', '/usr/bin/ruby3.1', ['ruby', '-e', 'puts 1'], inline('/usr/bin/ruby3.1', 'argument')],
    ['lua script', '/usr/bin/lua5.4', ['lua', '-l', 'socket', '/tmp/x.lua'], script('/usr/bin/lua5.4', '/tmp/x.lua')],
    ['busybox sh applet', '/usr/bin/busybox', ['busybox', 'sh', '/tmp/x.sh'], script('/usr/bin/busybox', '/tmp/x.sh')],
    ['busybox through a link named sh', '/usr/bin/busybox', ['sh', '-c', 'id'], inline('/usr/bin/busybox', 'argument')],
    ['busybox wget is no interpreter', '/usr/bin/busybox', ['busybox', 'wget', 'http://x'], none],
    ['a binary is no interpreter', '/usr/bin/curl', ['curl', '/tmp/x.sh'], none],
  ];
  it.each(cases)('%s', (_name, exe, argv, expected) => {
    expect(runs(exe, argv)).toEqual(expected);
  });

  it('without a working directory, a relative script stays relative (not judged)', () => {
    expect(whatRuns('/usr/bin/bash', ['bash', 'x.sh'], undefined, interpreters)).toEqual(script('/usr/bin/bash', 'x.sh', true));
  });

  it("the list is the policy's: an interpreter it leaves out runs nothing, one it adds is read generically", () => {
    const onlyPython = compileInterpreters(['python3*']);
    expect(whatRuns('/usr/bin/bash', ['bash', '/tmp/x.sh'], '/', onlyPython)).toEqual(none);
    const withRscript = compileInterpreters(['Rscript']);
    expect(whatRuns('/usr/bin/Rscript', ['Rscript', '--vanilla', '/tmp/x.R'], '/', withRscript)).toEqual(
      script('/usr/bin/Rscript', '/tmp/x.R'),
    );
    expect(whatRuns('/usr/bin/Rscript', ['Rscript', '-e', 'system("id")'], '/', withRscript)).toEqual(
      inline('/usr/bin/Rscript', 'argument'),
    );
  });
});

describe('what the dynamic loader runs: the program named in its arguments', () => {
  const loader = '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';
  it('the noexec bypass: ld.so runs a binary from /tmp', () => {
    expect(runs(loader, ['/lib64/ld-linux-x86-64.so.2', '/tmp/x', '60'])).toEqual({
      kind: 'loaded',
      runner: loader,
      path: '/tmp/x',
      relative: false,
    });
  });
  it('options with arguments are skipped; --list and --verify run nothing; musl too', () => {
    expect(runs(loader, ['ld.so', '--library-path', '/opt/lib', '--argv0', 'sshd', 'x'])).toEqual({
      kind: 'loaded',
      runner: loader,
      path: '/srv/x',
      relative: true,
    });
    expect(runs(loader, ['ld.so', '--verify', '/tmp/x'])).toEqual(none);
    expect(runs(loader, ['ld.so', '--list', '/tmp/x'])).toEqual(none);
    expect(runs('/lib/ld-musl-x86_64.so.1', ['ld-musl-x86_64.so.1', '/tmp/y'])).toMatchObject({ kind: 'loaded', path: '/tmp/y' });
  });
});

const now = 1_800_000_000;

function proc(overrides: Partial<ObservedProcess> = {}): ObservedProcess {
  return {
    pid: 4000,
    ppid: 300,
    comm: 'bash',
    argv0: 'bash',
    cmdlineEmpty: false,
    kernelThread: false,
    state: 'S',
    euid: 0,
    user: 'root',
    userClass: 'root',
    exe: { kind: 'path', path: '/usr/bin/bash', deleted: false },
    parentExe: '/usr/sbin/cron',
    cpuSeconds: 1,
    cpuCores: 0,
    rssBytes: 1 << 20,
    startedAt: now - 60,
    mountNamespace: undefined,
    root: 'host',
    stalled: false,
    ...overrides,
  };
}

const facts = (f: Partial<ExecutableFacts> = {}): ExecutableFacts => ({
  packaged: false,
  worldWritable: false,
  replacedAt: undefined,
  ...f,
});

function contexts(
  programFacts: Record<string, Partial<ExecutableFacts>>,
  section: unknown = {},
  baseline?: Record<string, unknown>,
  dpkgChangedAt = now - 86400,
) {
  const view: HostView = {
    processes: [],
    executables: new Map([['/usr/bin/bash', facts({ packaged: true })]]),
    homeDirectories: [],
    dpkgChangedAt,
  };
  const ctx = judgeContext(view, compileProcessPolicy(processesSectionSchema.parse(section)), readProcessBaseline(baseline as never));
  return programContext(ctx, new Map(Object.entries(programFacts).map(([path, f]) => [path, facts(f)])));
}

const scriptTarget = (path: string, deleted = false): ProgramTarget => ({ kind: 'script', runner: '/usr/bin/bash', path, deleted });

describe('a script or loaded program is judged like an executable', () => {
  it('bash /tmp/evil.sh: writable_location and unknown_executable for the script, though bash is packaged', () => {
    const v = judgeProgram(proc(), scriptTarget('/tmp/evil.sh'), contexts({ '/tmp/evil.sh': {} }))!;
    expect([v.verdict.exe, v.verdict.kinds]).toEqual(['/tmp/evil.sh', ['writable_location', 'unknown_executable']]);
  });

  it('a packaged script (cron.daily, a #! tool) is known; so is one an allow rule or the baseline names', () => {
    expect(
      judgeProgram(proc(), scriptTarget('/etc/cron.daily/apt-compat'), contexts({ '/etc/cron.daily/apt-compat': { packaged: true } }))!
        .verdict.kinds,
    ).toEqual([]);
    expect(
      judgeProgram(
        proc(),
        scriptTarget('/opt/jobs/backup.sh'),
        contexts({ '/opt/jobs/backup.sh': {} }, { allow: [{ exe: '/opt/jobs/*.sh' }] }),
      )!.verdict.knownBy,
    ).toBe('policy');
    expect(
      judgeProgram(
        proc(),
        scriptTarget('/opt/jobs/backup.sh'),
        contexts({ '/opt/jobs/backup.sh': {} }, {}, { '/opt/jobs/backup.sh': { daemon_users: [] } }),
      )!.verdict.knownBy,
    ).toBe('baseline');
  });

  it("dpkg's maintainer scripts come with packages: not judged", () => {
    expect(isMaintainerScript('/var/lib/dpkg/info/openssh-server.postinst')).toBe(true);
    expect(isMaintainerScript('/var/lib/dpkg/tmp.ci/preinst')).toBe(true);
    expect(isMaintainerScript('/var/lib/dpkg/info/../../../tmp/x.postinst')).toBe(false);
    expect(judgeProgram(proc(), scriptTarget('/var/lib/dpkg/tmp.ci/preinst', true), contexts({}))).toBeUndefined();
  });

  it('a script deleted after it started is deleted_executable, unless a package upgrade replaced it', () => {
    expect(
      judgeProgram(
        proc(),
        scriptTarget('/usr/local/bin/job.sh', true),
        contexts({ '/usr/local/bin/job.sh': {} }, { allow: [{ exe: '/usr/local/bin/*' }] }),
      )!.verdict.kinds,
    ).toEqual(['deleted_executable']);
    const upgraded = contexts({ '/usr/bin/tool': { packaged: true, replacedAt: now - 10 } }, {}, undefined, now - 5);
    expect(judgeProgram(proc(), scriptTarget('/usr/bin/tool', true), upgraded)!.verdict).toMatchObject({ kinds: [], outdated: true });
  });

  it('in a container, by its path only; names were judged with the executable', () => {
    const inContainer = proc({ root: 'other', mountNamespace: 'mnt:[4026532999]', comm: '[kworker/0:1]', argv0: 'sshd' });
    expect(judgeProgram(inContainer, scriptTarget('/app/run.sh'), contexts({}))!.verdict.kinds).toEqual([]);
    expect(judgeProgram(inContainer, scriptTarget('/tmp/x.sh'), contexts({}))!.verdict.kinds).toEqual(['writable_location']);
  });

  it('a script in a named container: its finding names the container as container findings do', () => {
    const identity: ContainerIdentity = {
      runtime: 'docker',
      id: 'ef'.repeat(32),
      podUid: undefined,
      image: 'registry.example.com/shop/web:1.4',
      name: 'web',
      podNamespace: undefined,
      podName: undefined,
      imageSource: 'docker_api',
    };
    const base = contexts({});
    const ctx = {
      ...base,
      view: { ...base.view, containers: new Map([[12, { identity, executableLayer: 'image' as const, standardInput: 'other' as const }]]) },
    };
    const summary = new ProgramSummary();
    summary.add(judgeProgram(proc({ pid: 12, root: 'other', mountNamespace: 'mnt:[4026532999]' }), scriptTarget('/tmp/x.sh'), ctx));
    const [found] = summary.findings();
    expect(found!.subject).toEqual({
      exe: '/tmp/x.sh',
      interpreter: '/usr/bin/bash',
      user: 'root',
      mount_namespace: 'mnt:[4026532999]',
      container_runtime: 'docker',
      container_id: 'efefefefefef',
      container: 'web',
      image: 'registry.example.com/shop/web:1.4',
    });
    expect(found!.message).toBe(
      'the script /tmp/x.sh run by /usr/bin/bash: it lies in a temporary or world-writable place (/tmp/**), in docker container efefefefefef (web, image registry.example.com/shop/web:1.4) (PID 12)',
    );
  });

  it('one finding per (kind, program, runner, user), naming the interpreter, PIDs in the message', () => {
    const summary = new ProgramSummary();
    const ctx = contexts({ '/tmp/evil.sh': {} });
    summary.add(judgeProgram(proc({ pid: 10 }), scriptTarget('/tmp/evil.sh'), ctx));
    summary.add(judgeProgram(proc({ pid: 11 }), scriptTarget('/tmp/evil.sh'), ctx));
    const findings = summary.findings();
    expect(findings.map((f) => [f.kind, f.subject])).toEqual([
      ['writable_location', { exe: '/tmp/evil.sh', interpreter: '/usr/bin/bash', user: 'root' }],
      ['unknown_executable', { exe: '/tmp/evil.sh', interpreter: '/usr/bin/bash', user: 'root' }],
    ]);
    expect(findings[0]!.message).toBe(
      'the script /tmp/evil.sh run by /usr/bin/bash: it lies in a temporary or world-writable place (/tmp/**) (2 processes, PIDs 10, 11)',
    );
    expect(summary.flaggedRows).toContainEqual({
      labels: { exe: '/tmp/evil.sh', user_class: 'root', kind: 'writable_location' },
      value: 1,
    });
  });

  it('the baseline learns a running unknown script by its path, never one in /tmp', () => {
    const view: HostView = {
      processes: [proc({ pid: 1 }), proc({ pid: 2 })],
      executables: new Map([['/usr/bin/bash', facts({ packaged: true })]]),
      homeDirectories: [],
      dpkgChangedAt: undefined,
    };
    const targets = new Map([
      [1, scriptTarget('/opt/app/worker.sh')],
      [2, scriptTarget('/tmp/x.sh')],
    ]);
    const learned = learnProcesses(view, compileProcessPolicy(processesSectionSchema.parse({})), {
      targets,
      facts: new Map([
        ['/opt/app/worker.sh', facts()],
        ['/tmp/x.sh', facts()],
      ]),
    });
    expect(Object.keys(learned)).toEqual(['/opt/app/worker.sh']);
  });

  it("the baseline never learns the exporter's own script, whoever runs it (another exporter's helper)", () => {
    const helper = '/usr/lib/hostguard-exporter/dist/isolated/helper.js';
    const view: HostView = {
      processes: [proc({ pid: 1, ppid: 4242 })],
      executables: new Map([['/usr/bin/bash', facts({ packaged: true })]]),
      homeDirectories: [],
      dpkgChangedAt: undefined,
    };
    const programs = { targets: new Map([[1, scriptTarget(helper)]]), facts: new Map([[helper, facts()]]) };
    const policy = compileProcessPolicy(processesSectionSchema.parse({}));
    expect(Object.keys(learnProcesses(view, policy, programs))).toEqual([helper]);
    expect(learnProcesses(view, policy, programs, new Set([helper]))).toEqual({});
  });
});

describe('injected and preloaded code', () => {
  const policy = compileProcessPolicy(processesSectionSchema.parse({}));
  const code = (over: Partial<CodeView>): CodeView => ({
    pid: 4000,
    startedAt: now - 60,
    ownFiles: ['/usr/bin/python3.11'],
    mappings: [],
    preload: [],
    containerRoot: undefined,
    ...over,
  });

  it('an executable mapping from /dev/shm, a memfd, or a deleted file; LD_PRELOAD naming /tmp or a descriptor', () => {
    const found = judgeInjected(
      code({
        mappings: [
          { path: '/usr/lib/x86_64-linux-gnu/libc.so.6', deleted: false, facts: undefined },
          { path: '/dev/shm/.x.so', deleted: false, facts: undefined },
          { path: '/memfd:payload', deleted: true, facts: undefined },
          { path: '/opt/app/lib/hook.so', deleted: true, facts: facts() },
        ],
        preload: ['/tmp/libhide.so', '/proc/self/fd/3', '/usr/lib/libjemalloc.so.2'],
      }),
      policy,
      now - 86400,
    );
    expect(found.map((f) => [f.how, f.library])).toEqual([
      ['mapped', '/dev/shm/.x.so'],
      ['mapped', '/memfd:payload'],
      ['mapped', '/opt/app/lib/hook.so'],
      ['preload', '/tmp/libhide.so'],
      ['preload', '/proc/self/fd/3'],
    ]);
    expect(found[0]!.reason).toBe(
      'it maps executable code from /dev/shm/.x.so: it lies in a temporary or world-writable place (/dev/shm/**)',
    );
  });

  it('a library a package upgrade replaced, the executable itself, and exceptions are not injection', () => {
    const upgraded = {
      path: '/usr/lib/x86_64-linux-gnu/libssl.so.3',
      deleted: true,
      facts: facts({ packaged: true, replacedAt: now - 10 }),
    };
    expect(judgeInjected(code({ mappings: [upgraded] }), policy, now - 5)).toEqual([]);
    expect(
      judgeInjected(code({ ownFiles: ['/tmp/x'], mappings: [{ path: '/tmp/x', deleted: false, facts: undefined }] }), policy, undefined),
    ).toEqual([]);
    const excepted = compileProcessPolicy(processesSectionSchema.parse({ writable_locations: { except: ['/tmp/app/**'] } }));
    expect(judgeInjected(code({ mappings: [{ path: '/tmp/app/lib.so', deleted: false, facts: undefined }] }), excepted, undefined)).toEqual(
      [],
    );
  });

  it('in a container, its own libraries (under its root) and deleted ones are judged as its executable is; a memfd still counts', () => {
    const mappings = [
      { path: '/tmp/c/rootfs/lib/libc.so.6', deleted: false, facts: undefined },
      { path: '/usr/lib/x86_64-linux-gnu/libfoo.so', deleted: true, facts: undefined },
      { path: '/dev/shm/x.so', deleted: false, facts: undefined },
      { path: '/memfd:x', deleted: true, facts: undefined },
    ];
    expect(judgeInjected(code({ containerRoot: '/tmp/c/rootfs', mappings }), policy, undefined).map((f) => f.library)).toEqual([
      '/dev/shm/x.so',
      '/memfd:x',
    ]);
  });

  it('one finding per (executable, library, user), in hostguard_process_flagged as injected_library', () => {
    const summary = new InjectedSummary();
    const p = proc({ exe: { kind: 'path', path: '/usr/bin/python3.11', deleted: false } });
    summary.add(p, judgeInjected(code({ preload: ['/tmp/libhide.so'] }), policy, undefined));
    expect(summary.findings().map((f) => [f.kind, f.severity, f.subject])).toEqual([
      ['injected_library', 'critical', { exe: '/usr/bin/python3.11', library: '/tmp/libhide.so', user: 'root' }],
    ]);
    expect(summary.flaggedRows).toEqual([
      { labels: { exe: '/usr/bin/python3.11', user_class: 'root', kind: 'injected_library' }, value: 1 },
    ]);
  });
});

describe('the /proc files read for them', () => {
  it('maps: executable file mappings only, each once, deleted marked', () => {
    const maps = [
      '55d0c0a00000-55d0c0a28000 r--p 00000000 fe:00 260689     /usr/bin/python3.11',
      '55d0c0a28000-55d0c0b00000 r-xp 00028000 fe:00 260689     /usr/bin/python3.11',
      '7f1c2a028000-7f1c2a1a0000 r-xp 00028000 fe:00 338943     /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f1c2b000000-7f1c2b001000 r-xp 00000000 00:01 1234       /memfd:x (deleted)',
      '7f1c2c000000-7f1c2c001000 rwxp 00000000 00:00 0 ',
      '7f1c2d000000-7f1c2d001000 r-xp 00000000 00:1a 99         /dev/shm/a b.so (deleted)',
      '7ffd5a7e6000-7ffd5a7e8000 r-xp 00000000 00:00 0          [vdso]',
      '7f1c2a028000-7f1c2a1a0000 r-xp 00028000 fe:00 338943     /usr/lib/x86_64-linux-gnu/libc.so.6',
    ].join('\n');
    expect(parseExecutableMappings(maps)).toEqual([
      { path: '/usr/bin/python3.11', deleted: false },
      { path: '/usr/lib/x86_64-linux-gnu/libc.so.6', deleted: false },
      { path: '/memfd:x', deleted: true },
      { path: '/dev/shm/a b.so', deleted: true },
    ]);
  });

  it('environ: LD_PRELOAD split as ld.so splits it; cmdline: every argument; a terminal on stdin', () => {
    expect(parsePreload('HOME=/root\0LD_PRELOAD=/tmp/a.so:/tmp/b.so /tmp/c.so\0PATH=/bin\0')).toEqual([
      '/tmp/a.so',
      '/tmp/b.so',
      '/tmp/c.so',
    ]);
    expect(parsePreload('LD_PRELOAD=/x.so')).toEqual(['/x.so']);
    expect(parsePreload('HOME=/root\0NOT_LD_PRELOAD=/x\0')).toEqual([]);
    expect(parseArguments('bash\0/tmp/x.sh\0a b\0')).toEqual(['bash', '/tmp/x.sh', 'a b']);
    expect(parseArguments('')).toEqual([]);
    expect(['/dev/pts/3', '/dev/tty1', 'pipe:[1234]', '/dev/null'].map(isTerminal)).toEqual([true, true, false, false]);
  });
});

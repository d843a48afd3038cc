import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containersSectionSchema } from '../../src/config/sections/containers.js';
import { containerOfCgroup, containerOfCgroupPath } from '../../src/containers/cgroup-forms.js';
import { containerPhrase, containerSubject, imageRepository, type ContainerIdentity } from '../../src/containers/identity.js';
import { parseOciConfig, parseRuntimeState } from '../../src/containers/runtime-state.js';
import { parseCgroup } from '../../src/procfs/cgroup.js';
import { ProcParseError } from '../../src/procfs/errors.js';
import { parseMountInfo } from '../../src/procfs/mountinfo.js';
import { standardInputOf } from '../../src/procfs/stdin.js';
import type { ContainerFacts } from '../../src/processes/container-facts.js';
import { containerRootOf, executableLayerOf, otherMountPoints } from '../../src/processes/container-observe.js';
import type { HostView, ObservedProcess } from '../../src/processes/host-view.js';
import { compileContainerPolicy, judgeContainerProcess } from '../../src/processes/judge-container.js';
import { judgeContext, judgeProcess, startVerdict } from '../../src/processes/judge.js';
import { compileProcessPolicy } from '../../src/processes/process-policy.js';
import { processesSectionSchema } from '../../src/config/sections/processes.js';
import { VerdictSummary } from '../../src/processes/verdict-summary.js';
import { repoRoot } from '../helpers/cli.js';

const fixtures = join(repoRoot, 'test/fixtures/containers');
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const id = '3f2a9c1d0b7e4a5f8e6d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f';
const podUid = '6f3a7a2e-1b2c-4d5e-8f90-123456789abc';

describe('which container a cgroup names, in every runtime and driver form', () => {
  it.each([
    ['docker-cgroupfs-v1.cgroup', { runtime: 'docker', id, podUid: undefined }],
    ['docker-systemd-v2.cgroup', { runtime: 'docker', id, podUid: undefined }],
    ['containerd-kubepods-systemd-v2.cgroup', { runtime: 'containerd', id, podUid }],
    ['containerd-kubepods-cgroupns.cgroup', { runtime: 'containerd', id, podUid }],
    ['crio-kubepods-systemd-v1.cgroup', { runtime: 'cri-o', id, podUid }],
    ['kubepods-cgroupfs-hybrid.cgroup', { runtime: 'unknown', id, podUid }],
    ['podman-systemd-v2.cgroup', { runtime: 'podman', id, podUid: undefined }],
    ['podman-rootless-v2.cgroup', { runtime: 'podman', id, podUid: undefined }],
    ['podman-cgroupfs-v1.cgroup', { runtime: 'podman', id, podUid: undefined }],
    ['nerdctl-cgroupfs-v2.cgroup', { runtime: 'containerd', id, podUid: undefined }],
    ['lxc-v2.cgroup', { runtime: 'lxc', id: 'web01', podUid: undefined }],
  ])('%s', (file, expected) => {
    expect(containerOfCgroup(parseCgroup(fixture(file), file))).toEqual(expected);
  });

  it('a host service, and the monitor process beside a CRI-O container, are no container (conmon still names its pod)', () => {
    expect(containerOfCgroup(parseCgroup(fixture('host-service.cgroup')))).toBeUndefined();
    expect(containerOfCgroup(parseCgroup(fixture('crio-conmon.cgroup')))).toEqual({ runtime: 'unknown', id: undefined, podUid });
  });

  it('a pod-like name outside kubepods, or an id of the wrong length, is no container', () => {
    expect(containerOfCgroupPath(`/system.slice/pod${podUid}.slice`)).toBeUndefined();
    expect(containerOfCgroupPath(`/docker/${id.slice(1)}`)).toBeUndefined();
    expect(containerOfCgroupPath(`/system.slice/docker-${id}.scope.bak`)).toBeUndefined();
  });

  it('parses the path after the second colon whole, and refuses what is no cgroup line', () => {
    expect(parseCgroup('0::/a:b/c\n')).toEqual([{ hierarchy: 0, controllers: '', path: '/a:b/c' }]);
    expect(() => parseCgroup('garbage\n', '/proc/9/cgroup')).toThrow(ProcParseError);
    expect(() => parseCgroup('x:cpu:/\n')).toThrow(ProcParseError);
    expect(() => parseCgroup('1:cpu:relative\n')).toThrow(ProcParseError);
  });
});

describe("the container's root from its mountinfo", () => {
  it('finds the overlay root and its upper layer in the mountinfo runc left (recorded)', () => {
    const mounts = parseMountInfo(fixture('runc-overlay.mountinfo'));
    expect(containerRootOf(mounts)).toEqual({
      kind: 'overlay',
      upperdir: '/tmp/hg-proto-sEzh/upper',
      lowerdirs: ['/tmp/hg-proto-sEzh/lower'],
    });
    expect(otherMountPoints(mounts)).toContain('/dev/shm');
    expect(otherMountPoints(mounts)).not.toContain('/');
  });

  it("resolves Docker's relative upperdir against overlay2's home, and sees its volume as another mount", () => {
    const mounts = parseMountInfo(fixture('docker-overlay2-relative.mountinfo'));
    expect(containerRootOf(mounts)).toEqual({
      kind: 'overlay',
      upperdir: '/var/lib/docker/overlay2/9d1c1f3a7b2e8c4d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e/diff',
      lowerdirs: [
        '/var/lib/docker/overlay2/l/6Q4QDKQ2VCTGXKUXVAW4YJQ5MN',
        '/var/lib/docker/overlay2/l/HY2D7XZ5ZR5N3TVGWN6QCJ4D2C',
        '/var/lib/docker/overlay2/l/7JQ5T5LKH7ZQK6VXDQZQPNCB3F',
      ],
    });
    expect(otherMountPoints(mounts)).toEqual(expect.arrayContaining(['/srv/data', '/etc/resolv.conf']));
  });

  it('names rootless fuse-overlayfs and a plain directory as not kernel overlayfs', () => {
    expect(containerRootOf(parseMountInfo(fixture('fuse-overlayfs-rootless.mountinfo')))).toEqual({
      kind: 'not_overlayfs',
      fsType: 'fuse.fuse-overlayfs',
    });
    expect(containerRootOf(parseMountInfo(fixture('plain-directory-root.mountinfo')))).toEqual({ kind: 'not_overlayfs', fsType: 'ext4' });
  });

  it('unescapes octal escapes in mount points and option values (a comma inside upperdir)', () => {
    const mounts = parseMountInfo(fixture('escaped-upperdir.mountinfo'));
    expect(containerRootOf(mounts)).toEqual({
      kind: 'overlay',
      upperdir: '/var/lib/my images/up,per',
      lowerdirs: ['/var/lib/my images/lower'],
    });
    expect(otherMountPoints(mounts)).toEqual(['/my data']);
  });

  it('refuses a line without the separator, naming the file and line', () => {
    expect(() => parseMountInfo('74 50 0:41 / / rw overlay overlay rw\n', '/proc/7/mountinfo')).toThrow('/proc/7/mountinfo:1');
  });
});

describe("where a container process's executable lives", () => {
  const overlay = { kind: 'overlay', upperdir: '/var/lib/x/upper', lowerdirs: ['/var/lib/x/lower'] } as const;
  const running = { inode: 77n, links: 1 };
  const exe = (path: string, deleted = false) => ({ path, deleted });

  it('a file made in the upper layer (its inode is the one running): writable_layer; none there: image', () => {
    expect(executableLayerOf(overlay, exe('/usr/local/bin/x'), [], running, { kind: 'regular', inode: 77n })).toBe('writable_layer');
    expect(executableLayerOf(overlay, exe('/bin/sleep'), [], running, { kind: 'absent' })).toBe('image');
  });

  it("an image file copied up (another inode in the upper layer): drift only when its content is no longer the image's", () => {
    expect(executableLayerOf(overlay, exe('/usr/bin/tail'), [], running, { kind: 'regular', inode: 78n, sameAsImage: true })).toBe('image');
    expect(executableLayerOf(overlay, exe('/usr/bin/head'), [], running, { kind: 'regular', inode: 78n, sameAsImage: false })).toBe(
      'writable_layer',
    );
    expect(executableLayerOf(overlay, exe('/usr/bin/head'), [], running, { kind: 'regular', inode: 78n, sameAsImage: undefined })).toBe(
      'unreadable',
    );
  });

  it("deleted: no links left means it was the upper layer's (the image's layers are read-only); links left, the image's", () => {
    expect(executableLayerOf(overlay, exe('/usr/local/bin/x', true), [], { inode: 77n, links: 0 }, { kind: 'absent' })).toBe(
      'writable_layer',
    );
    expect(executableLayerOf(overlay, exe('/bin/sleep', true), [], { inode: 77n, links: 1 }, { kind: 'absent' })).toBe('image');
  });

  it('on a volume or tmpfs, on another root file system, or unreadable: not judged, and said which', () => {
    expect(executableLayerOf(overlay, exe('/srv/data/x'), ['/srv/data'], running, { kind: 'regular', inode: 77n })).toBe('other_mount');
    expect(executableLayerOf(overlay, exe('/srv/database/x'), ['/srv/data'], running, { kind: 'regular', inode: 77n })).toBe(
      'writable_layer',
    );
    expect(executableLayerOf({ kind: 'not_overlayfs', fsType: 'fuse.fuse-overlayfs' }, exe('/x'), [], running, { kind: 'absent' })).toBe(
      'not_overlayfs',
    );
    expect(executableLayerOf({ kind: 'unreadable' }, exe('/x'), [], running, { kind: 'absent' })).toBe('unreadable');
    expect(executableLayerOf(overlay, exe('/x'), [], undefined, { kind: 'absent' })).toBe('unreadable');
    expect(executableLayerOf(overlay, exe('/x'), [], running, { kind: 'unreadable' })).toBe('unreadable');
  });
});

describe('a terminal on standard input, by device number', () => {
  const chr = 0o020000n;
  const dev = (major: bigint, minor: bigint) =>
    ((major & 0xfffn) << 8n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n) | ((major & ~0xfffn) << 32n);
  it.each([
    ['/dev/pts/0', chr, dev(136n, 0n), 'terminal'],
    ['/dev/pts/300', chr, dev(137n, 44n), 'terminal'],
    ['/dev/tty1', chr, dev(4n, 1n), 'terminal'],
    ['/dev/console', chr, dev(5n, 1n), 'terminal'],
    ['/dev/ptmx, the master side', chr, dev(5n, 2n), 'other'],
    ['/dev/null', chr, dev(1n, 3n), 'other'],
    ['a pipe', 0o010000n, 0n, 'other'],
    ['a socket', 0o140000n, 0n, 'other'],
  ] as const)('%s', (_name, type, rdev, expected) => {
    expect(standardInputOf({ mode: type | 0o620n, rdev })).toBe(expected);
  });
});

describe("what runc's state says about a container (recorded state.json)", () => {
  it("containerd's CRI annotations: image, container, pod", () => {
    expect(parseRuntimeState(fixture('containerd-cri.state.json'), 'containerd')).toEqual({
      runtime: 'containerd',
      image: 'registry.example.com/shop/web:1.4',
      name: 'web',
      podNamespace: 'shop',
      podName: 'web-7d4b9c6f5-x2k8p',
      podUid,
    });
  });

  it("CRI-O's, found in runc's default state directory, make the runtime cri-o", () => {
    expect(parseRuntimeState(fixture('crio.state.json'), 'unknown')).toMatchObject({
      runtime: 'cri-o',
      image: expect.stringMatching(/^quay\.io\/example\/api@sha256:/),
      name: 'api',
      podNamespace: 'payments',
      podName: 'api-0',
    });
  });

  it('crun keeps a copy of the configuration instead: its annotations name the same (CRI-O on crun)', () => {
    expect(parseOciConfig(fixture('crun-crio.config.json'), 'unknown')).toEqual({
      runtime: 'cri-o',
      image: 'quay.io/example/api:3.1',
      name: 'api',
      podNamespace: 'payments',
      podName: 'api-0',
      podUid: '0d7b8c1e-2a3b-4c5d-9e0f-aabbccddeeff',
    });
    expect(parseOciConfig('{"annotations":["x"]}', 'unknown')).toBeUndefined();
    expect(parseOciConfig('{}', 'unknown')).toBeUndefined();
  });

  it('no annotations (Docker, Podman, runc by hand): a record without an image; garbage: none', () => {
    expect(parseRuntimeState('{"config":{"labels":["bundle=/x"]}}', 'docker')).toEqual({
      runtime: 'docker',
      image: undefined,
      name: undefined,
      podNamespace: undefined,
      podName: undefined,
      podUid: undefined,
    });
    expect(parseRuntimeState('not json', 'docker')).toBeUndefined();
    expect(parseRuntimeState('{"config":{"labels":"x"}}', 'docker')).toBeUndefined();
    expect(parseRuntimeState('null', 'docker')).toBeUndefined();
  });
});

describe('a container in a finding', () => {
  const identity: ContainerIdentity = {
    runtime: 'containerd',
    id,
    podUid,
    image: 'registry.example.com/shop/web:1.4',
    name: 'web',
    podNamespace: 'shop',
    podName: 'web-0',
    imageSource: 'runtime_state',
  };

  it('its subject carries what is known, never an empty field; its phrase names it as crictl ps would', () => {
    expect(containerSubject(identity)).toEqual({
      container_runtime: 'containerd',
      container_id: '3f2a9c1d0b7e',
      container: 'web',
      image: 'registry.example.com/shop/web:1.4',
      pod_uid: podUid,
      pod_namespace: 'shop',
      pod: 'web-0',
    });
    const bare: ContainerIdentity = {
      ...identity,
      runtime: 'unknown',
      image: undefined,
      name: undefined,
      podNamespace: undefined,
      podName: undefined,
      imageSource: 'none',
    };
    expect(containerSubject(bare)).toEqual({ container_runtime: 'unknown', container_id: '3f2a9c1d0b7e', pod_uid: podUid });
    expect(containerPhrase(identity)).toBe(
      'containerd container 3f2a9c1d0b7e (web, image registry.example.com/shop/web:1.4, pod shop/web-0)',
    );
    expect(containerPhrase(bare)).toBe(`container 3f2a9c1d0b7e (image unknown, pod UID ${podUid})`);
  });

  it.each([
    ['nginx', 'nginx'],
    ['nginx:1.25', 'nginx'],
    ['docker.io/library/nginx:1.25@sha256:0123', 'docker.io/library/nginx'],
    ['registry:5000/team/app:1.4', 'registry:5000/team/app'],
    ['registry:5000/team/app', 'registry:5000/team/app'],
    ['sha256:8f2b8c8a9d1e', ''],
    [id, ''],
  ])('the label of image %s is its repository %j', (image, repository) => {
    expect(imageRepository(image)).toBe(repository);
  });
});

const now = 1_800_000_000;

function containerProcess(overrides: Partial<ObservedProcess> & { exePath?: string; deleted?: boolean } = {}): ObservedProcess {
  const { exePath = '/bin/sleep', deleted = false, ...rest } = overrides;
  return {
    pid: 5000,
    ppid: 4990,
    comm: exePath.split('/').pop()!.slice(0, 15),
    argv0: exePath,
    cmdlineEmpty: false,
    kernelThread: false,
    state: 'S',
    stalled: false,
    euid: 0,
    user: 'root',
    userClass: 'root',
    exe: { kind: 'path', path: exePath, deleted },
    parentExe: undefined,
    cpuSeconds: 1,
    cpuCores: 0,
    rssBytes: 2 ** 20,
    startedAt: now - 60,
    mountNamespace: 'mnt:[4026532174]',
    root: 'other',
    ...rest,
  };
}

const shop: ContainerIdentity = {
  runtime: 'cri-o',
  id,
  podUid,
  image: 'registry.example.com/shop/web:1.4',
  name: 'web',
  podNamespace: 'shop',
  podName: 'web-0',
  imageSource: 'runtime_state',
};
const facts = (overrides: Partial<ContainerFacts> = {}): ContainerFacts => ({
  identity: shop,
  executableLayer: 'image',
  standardInput: 'other',
  ...overrides,
});
const policy = (section: unknown = {}) => compileContainerPolicy(containersSectionSchema.parse(section));

describe('judgment of a process in a container', () => {
  it('an image binary with no terminal is nothing; a binary of the writable layer is drift, also once deleted', () => {
    expect(judgeContainerProcess(containerProcess(), '/bin/sleep', facts(), policy())).toBeUndefined();
    expect(
      judgeContainerProcess(
        containerProcess({ exePath: '/usr/local/bin/x' }),
        '/usr/local/bin/x',
        facts({ executableLayer: 'writable_layer' }),
        policy(),
      ),
    ).toEqual({
      container_drift:
        "its executable /usr/local/bin/x is not from the container's image: it lies in the container's writable layer, written after the container started",
    });
    const deleted = judgeContainerProcess(
      containerProcess({ exePath: '/usr/local/bin/x', deleted: true }),
      '/usr/local/bin/x',
      facts({ executableLayer: 'writable_layer' }),
      policy(),
    );
    expect(deleted?.container_drift).toMatch(/has been deleted since/);
  });

  it('what observation could not place is not drift: another mount, another root file system, unreadable, no facts', () => {
    for (const layer of ['other_mount', 'not_overlayfs', 'unreadable'] as const) {
      expect(judgeContainerProcess(containerProcess(), '/x', facts({ executableLayer: layer }), policy())).toBeUndefined();
    }
    expect(judgeContainerProcess(containerProcess(), '/x', undefined, policy())).toBeUndefined();
  });

  it('a package manager by its name, its argv[0] (pip run by python3) or its file name', () => {
    expect(judgeContainerProcess(containerProcess({ exePath: '/usr/bin/dpkg' }), '/usr/bin/dpkg', facts(), policy())).toHaveProperty(
      'container_package_manager',
    );
    const pip = containerProcess({ exePath: '/usr/bin/python3.11', comm: 'pip', argv0: '/usr/bin/python3' });
    expect(judgeContainerProcess(pip, '/usr/bin/python3.11', facts(), policy())?.container_package_manager).toMatch(/package manager pip/);
    const npm = containerProcess({ exePath: '/usr/local/bin/node', comm: 'npm install', argv0: 'npm install' });
    expect(judgeContainerProcess(npm, '/usr/local/bin/node', facts(), policy())).toHaveProperty('container_package_manager');
    expect(judgeContainerProcess(containerProcess({ exePath: '/usr/bin/python3' }), '/usr/bin/python3', facts(), policy())).toBeUndefined();
  });

  it('a shell only with a terminal on its standard input (busybox sh by its name)', () => {
    const busybox = containerProcess({ exePath: '/bin/busybox', comm: 'sh', argv0: 'sh' });
    expect(judgeContainerProcess(busybox, '/bin/busybox', facts({ standardInput: 'terminal' }), policy())?.container_shell).toMatch(
      /the shell sh runs with a terminal/,
    );
    for (const standardInput of ['other', 'closed', 'unreadable'] as const) {
      expect(judgeContainerProcess(busybox, '/bin/busybox', facts({ standardInput }), policy())).toBeUndefined();
    }
    // A terminal on a program that is no shell is nothing.
    expect(
      judgeContainerProcess(containerProcess({ exePath: '/usr/bin/top' }), '/usr/bin/top', facts({ standardInput: 'terminal' }), policy()),
    ).toBeUndefined();
  });

  it("the lists are the policy's: a list given replaces the default", () => {
    const custom = policy({ package_managers: ['conda'], shells: ['nu'] });
    expect(judgeContainerProcess(containerProcess({ exePath: '/usr/bin/dpkg' }), '/usr/bin/dpkg', facts(), custom)).toBeUndefined();
    expect(
      judgeContainerProcess(containerProcess({ exePath: '/opt/conda/bin/conda' }), '/opt/conda/bin/conda', facts(), custom),
    ).toHaveProperty('container_package_manager');
    expect(
      judgeContainerProcess(containerProcess({ exePath: '/usr/bin/nu' }), '/usr/bin/nu', facts({ standardInput: 'terminal' }), custom),
    ).toHaveProperty('container_shell');
  });

  it('containers.allow excepts by image, by container name, or both, for the kinds it lists (all when it lists none)', () => {
    const shell = containerProcess({ exePath: '/bin/bash' });
    const terminal = facts({ standardInput: 'terminal', executableLayer: 'writable_layer' });
    const judge = (section: unknown, identity: ContainerIdentity = shop) =>
      Object.keys(judgeContainerProcess(shell, '/bin/bash', { ...terminal, identity }, policy(section)) ?? {}).sort();
    expect(judge({})).toEqual(['container_drift', 'container_shell']);
    expect(judge({ allow: [{ image: 'registry.example.com/shop/*', kinds: ['container_shell'] }] })).toEqual(['container_drift']);
    expect(judge({ allow: [{ image: 'registry.example.com/shop/*' }] })).toEqual([]);
    expect(judge({ allow: [{ container: 'debug-*' }] })).toEqual(['container_drift', 'container_shell']);
    expect(judge({ allow: [{ container: 'web', image: 'registry.example.com/other/*' }] })).toEqual(['container_drift', 'container_shell']);
    expect(judge({ allow: [{ container: 'web', image: 'registry.example.com/shop/*' }] })).toEqual([]);
    // An unknown image matches no rule by image: the exception needs the runtime to name it.
    expect(judge({ allow: [{ image: '**' }] }, { ...shop, image: undefined })).toEqual(['container_drift', 'container_shell']);
  });

  it('a rule that names neither image nor container, or an unknown kind, is refused at load', () => {
    expect(containersSectionSchema.safeParse({ allow: [{ kinds: ['container_shell'] }] }).success).toBe(false);
    expect(containersSectionSchema.safeParse({ allow: [{ image: 'x', kinds: ['unknown_executable'] }] }).success).toBe(false);
    expect(containersSectionSchema.safeParse({ shells: ['/bin/sh'] }).success).toBe(false);
  });
});

describe('a container process through the processes judgment', () => {
  function judged(p: ObservedProcess, f: ContainerFacts | undefined, section: unknown = {}) {
    const view: HostView = {
      processes: [p],
      executables: new Map(),
      homeDirectories: [],
      dpkgChangedAt: undefined,
      containers: new Map(f ? [[p.pid, f]] : []),
    };
    const ctx = judgeContext(view, compileProcessPolicy(processesSectionSchema.parse({})), undefined, [], policy(section));
    return judgeProcess(p, ctx);
  }

  it("carries its container into the finding's subject and message, and its start verdict", () => {
    const p = containerProcess({ exePath: '/usr/local/bin/implant', pid: 5123 });
    const verdict = judged(p, facts({ executableLayer: 'writable_layer' }));
    expect(startVerdict(verdict)).toBe('container_drift');
    const summary = VerdictSummary.of([verdict]);
    expect(summary.findings()).toEqual([
      {
        collector: 'processes',
        kind: 'container_drift',
        severity: 'critical',
        subject: {
          exe: '/usr/local/bin/implant',
          user: 'root',
          mount_namespace: 'mnt:[4026532174]',
          container_runtime: 'cri-o',
          container_id: '3f2a9c1d0b7e',
          container: 'web',
          image: 'registry.example.com/shop/web:1.4',
          pod_uid: podUid,
          pod_namespace: 'shop',
          pod: 'web-0',
        },
        message:
          "its executable /usr/local/bin/implant is not from the container's image: it lies in the container's writable layer, written after the container started, in cri-o container 3f2a9c1d0b7e (web, image registry.example.com/shop/web:1.4, pod shop/web-0) (PID 5123)",
      },
    ]);
    expect(summary.containerRows).toEqual([
      { labels: { kind: 'container_drift', image: 'registry.example.com/shop/web', pod_uid: podUid }, value: 1 },
    ]);
  });

  it('a container kind ranks with its severity: drift before an unknown-free writable location, a shell after', () => {
    const p = containerProcess({ exePath: '/tmp/x', comm: 'bash' });
    const verdict = judged(p, facts({ executableLayer: 'writable_layer', standardInput: 'terminal' }));
    expect(verdict.status === 'judged' && verdict.kinds).toEqual(['writable_location', 'container_drift', 'container_shell']);
  });

  it('a root of its own that no runtime made (unshare --root) is named by its mount namespace, as before', () => {
    const p = containerProcess({ exePath: '/tmp/x', pid: 77 });
    const unnamed: ContainerIdentity = {
      runtime: 'unknown',
      id: undefined,
      podUid: undefined,
      image: undefined,
      name: undefined,
      podNamespace: undefined,
      podName: undefined,
      imageSource: 'none',
    };
    const [finding] = VerdictSummary.of([judged(p, facts({ identity: unnamed }))]).findings();
    expect(finding?.subject).toEqual({ exe: '/tmp/x', user: 'root', mount_namespace: 'mnt:[4026532174]' });
    expect(finding?.message).toMatch(/in a container \(another root than the host's, mount namespace mnt:\[4026532174\]\) \(PID 77\)$/);
  });

  it('two containers running the same implant are two findings', () => {
    const a = judged(containerProcess({ exePath: '/usr/local/bin/x', pid: 1 }), facts({ executableLayer: 'writable_layer' }));
    const b = judged(
      containerProcess({ exePath: '/usr/local/bin/x', pid: 2 }),
      facts({ executableLayer: 'writable_layer', identity: { ...shop, id: id.replace(/^3/, '4') } }),
    );
    expect(VerdictSummary.of([a, b]).findings()).toHaveLength(2);
  });
});

describe('hostile input: the container parsers give a value or their own typed error, never anything else', () => {
  const runs = { numRuns: 2000 };
  const text = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }));
  // Lines made of the fields these files have, so that the generator reaches past the first check.
  const field = fc.oneof(
    fc.constantFrom('-', '/', '0:41', 'overlay', 'upperdir=/x', '0::/', 'kubepods', 'docker-', ':', ' ', '\\040', ','),
    fc.string({ maxLength: 12 }),
  );
  const lines = fc
    .array(
      fc.array(field, { maxLength: 14 }).map((f) => f.join(' ')),
      { maxLength: 6 },
    )
    .map((l) => l.join('\n'));
  const onlyThrows = (run: () => unknown) => {
    try {
      run();
      return true;
    } catch (error) {
      return error instanceof ProcParseError;
    }
  };

  it('mountinfo, and the root found in whatever it parsed to', () => {
    fc.assert(
      fc.property(fc.oneof(text, lines), (t) =>
        onlyThrows(() => {
          const mounts = parseMountInfo(t, '/proc/1/mountinfo');
          containerRootOf(mounts);
          otherMountPoints(mounts);
        }),
      ),
      runs,
    );
  });

  it('cgroup, and the container it names', () => {
    fc.assert(
      fc.property(fc.oneof(text, lines), (t) => onlyThrows(() => containerOfCgroup(parseCgroup(t, '/proc/1/cgroup')))),
      runs,
    );
    fc.assert(
      fc.property(
        fc.array(field, { maxLength: 10 }).map((f) => f.join('/')),
        (path) => onlyThrows(() => containerOfCgroupPath(path)),
      ),
      runs,
    );
  });

  it("runc's state.json: any text, any JSON", () => {
    fc.assert(
      fc.property(text, (t) => onlyThrows(() => parseRuntimeState(t, 'unknown'))),
      runs,
    );
    fc.assert(
      fc.property(fc.json(), (t) => onlyThrows(() => parseRuntimeState(t, 'docker'))),
      runs,
    );
    fc.assert(
      fc.property(fc.json(), (t) => onlyThrows(() => parseOciConfig(t, 'unknown'))),
      runs,
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null))), (labels) =>
        onlyThrows(() => parseRuntimeState(JSON.stringify({ config: { labels } }), 'containerd')),
      ),
      runs,
    );
  });
});

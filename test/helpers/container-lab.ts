import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/**
 * Real containers: runc (Debian's) on a real overlayfs root whose lower layer is an image built
 * from Debian packages, with its own dpkg database. For tests (test/helpers/containers.ts removes
 * everything after each file) and benchmarks (which call removeContainers() themselves).
 */

/** Where scripts/install-test-deps downloads the image's packages (never installed on the host). */
export const imageDebsDir = process.env['HOSTGUARD_TEST_DEBS'] ?? '/var/cache/hostguard-test/debs';

/** The image's packages: a shell, coreutils, bash, and dpkg with what `dpkg -i` insists on finding. */
const imagePackages = [
  'libc6',
  'libgcc-s1',
  'libc-bin',
  'dash',
  'bash',
  'libtinfo6',
  'coreutils',
  'libacl1',
  'libattr1',
  'libgmp10',
  'libselinux1',
  'libpcre2-8-0',
  'dpkg',
  'tar',
  'diffutils',
  'libbz2-1.0',
  'liblzma5',
  'libmd0',
  'libzstd1',
  'zlib1g',
];

/** The prefix of this process's cgroups: unique per process. */
const containerPrefix = `hostguard-test-${process.pid}`;

const cleanups: Array<() => void> = [];

/** Delete every container this process started (runc delete --force), unmount their overlays, remove their cgroups. */
export function removeContainers(): void {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch (error) {
      console.error(`container cleanup: ${(error as Error).message}`);
    }
  }
}

function run(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, [...args], { encoding: 'utf8', input: options.input, timeout: options.timeoutMs ?? 30_000 });
}

function mustRun(command: string, args: readonly string[], options: { input?: string } = {}): string {
  const result = run(command, args, options);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.error?.message ?? ''}`);
  return result.stdout;
}

/**
 * Run a command that leaves a process behind holding its standard streams (runc run/exec
 * --detach hands them to the container's process): no pipes, or spawnSync would wait for that
 * process to close them. Its error output goes through a file.
 */
function mustRunDetaching(command: string, args: readonly string[], logFile: string): void {
  const log = openSync(logFile, 'w');
  try {
    const result = spawnSync(command, [...args], { stdio: ['ignore', 'ignore', log], timeout: 30_000 });
    if (result.status !== 0)
      throw new Error(
        `${command} ${args.join(' ')} failed (${result.status}): ${readFileSync(logFile, 'utf8')}${result.error?.message ?? ''}`,
      );
  } finally {
    closeSync(log);
  }
}

/**
 * The image: the packages' files extracted with `dpkg-deb -x`, and the dpkg database a
 * debootstrap would leave (status with every package installed, a file list per package). About
 * a second for 20 packages, so it is built per test file in `parent`.
 */
export function debianImage(parent: string): string {
  const debs = existsSync(imageDebsDir) ? readdirSync(imageDebsDir).filter((f) => f.endsWith('.deb')) : [];
  const missing = imagePackages.filter((p) => !debs.some((f) => f.startsWith(`${p}_`)));
  if (missing.length > 0)
    throw new Error(`the test image's packages are missing from ${imageDebsDir}: ${missing.join(', ')} (run scripts/install-test-deps)`);
  const root = join(parent, 'image');
  const info = join(root, 'var/lib/dpkg/info');
  mkdirSync(info, { recursive: true });
  let status = '';
  for (const p of imagePackages) {
    const deb = join(
      imageDebsDir,
      debs.find((f) => f.startsWith(`${p}_`))!,
    );
    mustRun('dpkg-deb', ['-x', deb, root]);
    status += `${mustRun('dpkg-deb', ['-f', deb]).trimEnd()}\nStatus: install ok installed\n\n`;
    const files = mustRun('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -t', 'sh', deb]);
    const list = files
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (l === './' ? '/.' : l.replace(/^\./, '').replace(/\/$/, '')));
    writeFileSync(join(info, `${p}.list`), list.join('\n') + '\n');
  }
  writeFileSync(join(root, 'var/lib/dpkg/status'), status);
  for (const dir of ['proc', 'sys', 'dev', 'tmp', 'root', 'usr/local/bin', 'var/lib/dpkg/updates', 'var/log'])
    mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  buildHoldPackage(parent, join(root, holdPackage));
  return root;
}

/** In the image: a package whose preinst waits, so that `dpkg -i` of it keeps running until the test ends it. */
export const holdPackage = '/root/hostguard-test-hold.deb';

function buildHoldPackage(parent: string, deb: string): void {
  const dir = mkdtempSync(join(parent, 'hold-'));
  mkdirSync(join(dir, 'DEBIAN'));
  writeFileSync(
    join(dir, 'DEBIAN/control'),
    'Package: hostguard-test-hold\nVersion: 1.0\nArchitecture: all\nMaintainer: hostguard tests <root@localhost>\nDescription: its preinst waits, so that dpkg keeps running\n',
  );
  writeFileSync(join(dir, 'DEBIAN/preinst'), '#!/bin/sh\nsleep 100000\n', { mode: 0o755 });
  mustRun('dpkg-deb', ['--build', '--root-owner-group', dir, deb]);
  rmSync(dir, { recursive: true });
}

export interface ContainerOptions {
  /** The container's first process. */
  readonly args: readonly string[];
  /** The cgroup path runc makes (the cgroupfs driver), as a runtime names it; under the test's prefix. */
  readonly cgroup: (id: string) => string;
  /** OCI annotations, which runc keeps in its state.json (CRI runtimes write image and pod names there). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Host directories bind-mounted into the container: a volume. */
  readonly binds?: ReadonlyArray<{ readonly source: string; readonly target: string }>;
  /**
   * Its network: a namespace of its own with only loopback (runc's default), the host's (`host`,
   * as `docker run --network host`), or an existing namespace's (`{ path: '/var/run/netns/NAME' }`).
   */
  readonly network?: 'own' | 'host' | { readonly path: string };
  /** Called with the id before the container starts (Docker lists a container before it runs). */
  readonly beforeStart?: (id: string) => void;
}

/** A running container on an overlayfs root. */
export interface TestContainer {
  /** The runtime's id: 64 hex digits, as Docker, containerd and CRI-O make them. */
  readonly id: string;
  /** The init process's PID on the host. */
  readonly pid: number;
  readonly upperdir: string;
  /** Run a command inside and wait for it. */
  exec(args: readonly string[]): string;
  /** Start a command inside and return at once (runc exec --detach); its host PID. */
  execDetached(args: readonly string[]): number;
}

let sequence = 0;

/**
 * A container of `image` on a fresh overlay (upper and work directories of its own), started with
 * `runc run --detach`. Its id is 64 hex digits that start with the test's pid, so that runc's
 * state, the cgroups and the overlay can be found and removed.
 */
export function startContainer(image: string, parent: string, options: ContainerOptions): TestContainer {
  const runc = requireTool('runc', 'runc');
  const n = ++sequence;
  const id = `${process.pid.toString(16).padStart(8, '0')}${n.toString(16).padStart(4, '0')}`.padEnd(64, 'c');
  const dir = mkdtempSync(join(parent, `container-${n}-`));
  const [upperdir, workdir, merged, bundle] = ['upper', 'work', 'merged', 'bundle'].map((d) => join(dir, d)) as [
    string,
    string,
    string,
    string,
  ];
  for (const d of [upperdir, workdir, merged, bundle]) mkdirSync(d);
  mustRun('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${image},upperdir=${upperdir},workdir=${workdir}`, merged]);
  cleanups.push(() => {
    run('umount', [merged]);
    rmSync(dir, { recursive: true, force: true });
  });
  mustRun(runc, ['spec', '--bundle', bundle]);
  const configPath = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    root: { path: string; readonly: boolean };
    process: { terminal: boolean; args: string[]; env: string[] };
    mounts: Array<{ destination: string; type: string; source: string; options: string[] }>;
    annotations?: Record<string, string>;
    linux: { cgroupsPath?: string; namespaces: Array<{ type: string; path?: string }> };
  };
  config.root = { path: merged, readonly: false };
  config.process.terminal = false;
  config.process.args = [...options.args];
  config.process.env = ['PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'HOME=/root', 'TERM=xterm'];
  for (const bind of options.binds ?? [])
    config.mounts.push({ destination: bind.target, type: 'bind', source: bind.source, options: ['rbind', 'rw'] });
  config.annotations = { ...options.annotations };
  const network = options.network ?? 'own';
  config.linux.namespaces = config.linux.namespaces.filter((n) => n.type !== 'network');
  if (network !== 'host') config.linux.namespaces.push(network === 'own' ? { type: 'network' } : { type: 'network', path: network.path });
  const cgroupPath = options.cgroup(id);
  config.linux.cgroupsPath = cgroupPath;
  writeFileSync(configPath, JSON.stringify(config));
  cleanups.push(() => {
    run(runc, ['delete', '--force', id]);
    removeCgroups(cgroupPath);
  });
  options.beforeStart?.(id);
  mustRunDetaching(runc, ['run', '--detach', '--bundle', bundle, id], join(dir, 'run.log'));
  const state = JSON.parse(mustRun(runc, ['state', id])) as { pid: number };
  return {
    id,
    pid: state.pid,
    upperdir,
    exec: (args) => mustRun(runc, ['exec', id, ...args]),
    execDetached: (args) => {
      const pidFile = join(dir, `exec-${++sequence}.pid`);
      mustRunDetaching(runc, ['exec', '--detach', '--pid-file', pidFile, id, ...args], `${pidFile}.log`);
      return Number(readFileSync(pidFile, 'utf8'));
    },
  };
}

/** The cgroup directories runc made for a path, in every hierarchy, deepest first: `runc delete` removes only the last. */
function removeCgroups(path: string): void {
  const top = path.split('/').filter((s) => s !== '')[0];
  if (top === undefined || !top.startsWith(containerPrefix))
    throw new Error(`cgroup ${path} is not under the test's prefix ${containerPrefix}`);
  const hierarchies = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? ['/sys/fs/cgroup']
    : readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h));
  for (const hierarchy of hierarchies) {
    const segments = path.split('/').filter((s) => s !== '');
    for (let depth = segments.length; depth > 0; depth--) {
      const dir = join(hierarchy, ...segments.slice(0, depth));
      if (!existsSync(dir)) continue;
      try {
        rmdirSync(dir);
      } catch {
        // still used by another container of this test; removed with it
      }
    }
  }
}

/** Kubernetes' cgroupfs layout for a pod's container, CRI-O's `crio-ID` leaf. */
export function crioCgroup(podUid: string): (id: string) => string {
  return (id) => `/${containerPrefix}/kubepods/besteffort/pod${podUid}/crio-${id}`;
}

/** Docker's cgroupfs layout, `/docker/ID`. */
export function dockerCgroup(): (id: string) => string {
  return (id) => `/${containerPrefix}/docker/${id}`;
}

/** CRI-O's annotations of a pod's container, as `crictl inspect` shows them. */
export function crioAnnotations(
  pod: { uid: string; namespace: string; name: string },
  container: string,
  image: string,
): Record<string, string> {
  return {
    'io.kubernetes.cri-o.ImageName': image,
    'io.kubernetes.cri-o.ContainerType': 'container',
    'io.kubernetes.container.name': container,
    'io.kubernetes.pod.name': pod.name,
    'io.kubernetes.pod.namespace': pod.namespace,
    'io.kubernetes.pod.uid': pod.uid,
  };
}

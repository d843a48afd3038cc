import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { capabilityNames, parseCapabilitySets } from '../../src/procfs/capabilities.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import {
  dockerfileEntrypoint,
  dockerfileUser,
  dockerRunRequest,
  documentedDockerRuns,
  kubernetesRequest,
  ociProcess,
  setprivArgs,
  stateAfterExec,
  type ContainerRequest,
  type PodSecurityContext,
  type ProcessState,
  type Runtime,
  type SecurityContext,
} from '../helpers/container-runtime.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import { spawnOwned, waitForOutput } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';
import { installForUnprivileged } from '../helpers/unprivileged.js';

/**
 * The exporter started as a container runtime starts it from the shipped files: the DaemonSet's
 * securityContext and the Dockerfile's USER, ENTRYPOINT and documented `docker run` line are
 * translated the way containerd, CRI-O and Docker do (test/helpers/container-runtime.ts), and the
 * real exporter runs with those credentials under setpriv (in a mount namespace whose root is
 * read-only when the container's is). The story each test tells: a root process running a binary
 * copied to /tmp is reported. It is not when the added capabilities are lost at exec, which is
 * what the manifests shipped with before (uid 65534 with capabilities.add).
 */

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const imageUser = dockerfileUser(dockerfile);
const entrypoint = dockerfileEntrypoint(dockerfile);
const imageInstall = '/opt/hostguard-exporter';

interface Volume {
  name: string;
  hostPath?: { path: string };
  configMap?: { name: string };
}
interface Container {
  name: string;
  args: string[];
  securityContext?: SecurityContext;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface DaemonSet {
  spec: { template: { spec: { hostPID?: boolean; securityContext?: PodSecurityContext; containers: Container[]; volumes: Volume[] } } };
}

const planted: string[] = [];
afterAll(() => {
  for (const dir of planted.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory as the kubelet's DirectoryOrCreate or Docker's volume of this image leaves it: owned by root, 0755. */
function rootOwnedDir(owner = 0): string {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  chownSync(dir, owner, owner);
  return dir;
}

/** A container path as seen from this host, through the container's mounts (longest first); the image's files are the built checkout. */
function hostPath(path: string, mounts: ReadonlyArray<{ container: string; host: string }>): string {
  const all = [...mounts, { container: imageInstall, host: installForUnprivileged() }].sort(
    (a, b) => b.container.length - a.container.length,
  );
  for (const { container, host } of all) {
    if (path === container) return host;
    if (path.startsWith(`${container}/`)) return join(host, path.slice(container.length + 1));
  }
  return path;
}

/** `--flag=/path` and `/path` arguments mapped to this host. */
function hostArgs(args: readonly string[], mounts: ReadonlyArray<{ container: string; host: string }>): string[] {
  return args.map((arg) => {
    const match = /^(--[\w.-]+=)?(\/.*)$/.exec(arg);
    return match ? `${match[1] ?? ''}${hostPath(match[2]!, mounts)}` : arg;
  });
}

/** The container's credentials from each runtime; they must agree (they differ only for cases the manifests do not use). */
function credentials(request: ContainerRequest, runtimes: readonly Runtime[]): ProcessState {
  const [first, ...others] = runtimes.map((runtime) => stateAfterExec(ociProcess(request, runtime)));
  for (const other of others) expect(other).toEqual(first);
  return first!;
}

interface Started {
  readonly pid: number;
  readonly url: string;
  /** Everything the exporter printed so far. */
  output(): string;
}

/**
 * Start `command` with these credentials, as runc leaves the container's program: setpriv sets
 * uid, groups, bounding, inheritable and ambient sets and no_new_privs, and the exec computes the
 * rest. A read-only root is a mount namespace of its own whose root mount is read-only, the
 * writable volumes bound over it.
 */
async function startAsContainer(
  state: ProcessState,
  readOnlyRoot: boolean,
  writable: readonly string[],
  command: readonly string[],
): Promise<Started> {
  const inner = [requireTool('setpriv', 'util-linux'), ...setprivArgs(state), '--', ...command];
  const script =
    'n=$1; shift; while [ "$n" -gt 0 ]; do mount --bind "$1" "$1" || exit 1; shift; n=$((n-1)); done; mount -o remount,bind,ro / || exit 1; exec "$@"';
  const [file, ...args] = readOnlyRoot
    ? [
        requireTool('unshare', 'util-linux'),
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        script,
        'sh',
        String(writable.length),
        ...writable,
        ...inner,
      ]
    : inner;
  const child = spawnOwned(file!, args);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const port = (await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 60_000))[1];
  return { pid: child.pid!, url: `http://127.0.0.1:${port}`, output: () => output };
}

/** The credentials the kernel gave the running exporter, in the translation's terms. */
function actualState(pid: number): ProcessState {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    /^(\w+):\s*(.*)$/m
      .exec(status.split('\n').find((l) => l.startsWith(`${name}:`)) ?? '')?.[2]
      ?.trim()
      .split(/\s+/) ?? [];
  const groups = field('Groups').filter(Boolean).map(Number);
  return {
    uid: Number(field('Uid')[1]),
    gid: Number(field('Gid')[1]),
    groups,
    capabilities: parseCapabilitySets(status),
    noNewPrivileges: field('NoNewPrivs')[0] === '1',
  };
}

const readable = (state: ProcessState) => ({
  ...state,
  capabilities: Object.fromEntries(Object.entries(state.capabilities).map(([set, mask]) => [set, capabilityNames(mask as bigint)])),
});

/** A copy of sleep in /tmp run by root, as an intruder drops one; resolves once it runs the copy. */
async function plantRootProcess(): Promise<string> {
  const dir = mkdtempSync('/tmp/hostguard-planted-');
  planted.push(dir);
  const path = join(dir, 'sleep');
  copyFileSync('/usr/bin/sleep', path);
  chmodSync(path, 0o755);
  const child = spawnOwned(path, ['600']);
  await eventually(() => readlinkSync(`/proc/${child.pid}/exe`) === path, { intervalMs: 20, what: `${path} running` });
  return path;
}

/**
 * What a collection that began after the plant says about it. Collections run only on request
 * and a scrape joins one in flight, so the second of two scrapes made after the plant began after it.
 */
async function verdictOn(exporter: Started, exe: string) {
  await fetch(`${exporter.url}/metrics`).then((r) => r.text());
  const body = await fetch(`${exporter.url}/metrics`).then((r) => r.text());
  return {
    writable_location: sampleValue(body, 'hostguard_process_flagged', { exe, kind: 'writable_location' }) ?? 0,
    unknown_executable: sampleValue(body, 'hostguard_process_flagged', { exe, kind: 'unknown_executable' }) ?? 0,
    permission_denied: sampleValue(body, 'hostguard_processes_unjudged', { reason: 'permission_denied' }) ?? 0,
    cap_sys_ptrace: sampleValue(body, 'hostguard_exporter_capability', { capability: 'cap_sys_ptrace' }),
  };
}

/** Only the processes collector: the credentials are under test, not the other collectors' work. */
const testFlags = ['--collector.disable-defaults', '--collector.processes', '--web.listen-address=127.0.0.1:0'];

/** Start the DaemonSet's container as `runtimes` would, mounts mapped to temporary directories. */
async function startDaemonSet(daemonset: DaemonSet, runtimes: readonly Runtime[], stateOwner = 0) {
  const pod = daemonset.spec.template.spec;
  const container = pod.containers.find((c) => c.name === 'hostguard-exporter')!;
  expect(pod.hostPID).toBe(true);
  const state = credentials(kubernetesRequest(container.securityContext, pod.securityContext, imageUser), runtimes);
  const configMaps = loadAll(readFileSync(join(repoRoot, 'deploy/kubernetes/policy-configmap.yaml'), 'utf8')) as Array<{
    metadata: { name: string };
    data: Record<string, string>;
  }>;
  const writable: string[] = [];
  const mounts = container.volumeMounts.map((mount) => {
    const volume = pod.volumes.find((v) => v.name === mount.name)!;
    if (volume.configMap) {
      const dir = rootOwnedDir();
      for (const [file, text] of Object.entries(configMaps.find((c) => c.metadata.name === volume.configMap!.name)!.data))
        writeFileSync(join(dir, file), text);
      return { container: mount.mountPath, host: dir };
    }
    if (volume.hostPath?.path === '/') return { container: mount.mountPath, host: '/' };
    // Any other host path (the state directory) as the kubelet creates it, here in a temporary place.
    const dir = rootOwnedDir(stateOwner);
    writable.push(dir);
    return { container: mount.mountPath, host: dir };
  });
  const readOnlyRoot = container.securityContext?.readOnlyRootFilesystem ?? false;
  const exporter = await startAsContainer(state, readOnlyRoot, writable, [
    ...hostArgs([...entrypoint, ...container.args], mounts),
    ...testFlags,
  ]);
  return { state, exporter };
}

const daemonsetFile = join(repoRoot, 'deploy/kubernetes/daemonset.yaml');

describe('the DaemonSet (deploy/kubernetes/daemonset.yaml) as containerd and CRI-O start it', () => {
  it('has its capabilities in effect, and reports a root process running a binary copied to /tmp', async () => {
    const { state, exporter } = await startDaemonSet(load(readFileSync(daemonsetFile, 'utf8')) as DaemonSet, ['containerd', 'cri-o']);
    expect(readable(actualState(exporter.pid))).toEqual(readable(state));
    const exe = await plantRootProcess();
    const verdict = await verdictOn(exporter, exe);
    expect(verdict, exporter.output()).toMatchObject({ writable_location: 1, unknown_executable: 1, cap_sys_ptrace: 1 });
    expect(exporter.output()).toMatch(
      /msg="capabilities in effect" uid=0 effective=cap_dac_read_search,cap_net_bind_service,cap_sys_ptrace ambient=\(none\) blind_spots=0/,
    );
  }, 60_000);

  it('as it shipped before (uid 65534 with capabilities.add), the capabilities are lost at exec: the same plant goes unreported, and the log says why', async () => {
    const daemonset = load(readFileSync(daemonsetFile, 'utf8')) as DaemonSet;
    const container = daemonset.spec.template.spec.containers[0]!;
    container.securityContext = { ...container.securityContext, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true };
    // The kubelet's root-owned state directory would stop it at start; give it one it may write, to see the capabilities alone.
    const { state, exporter } = await startDaemonSet(daemonset, ['containerd', 'cri-o'], 65534);
    expect(capabilityNames(state.capabilities.effective)).toEqual([]);
    expect(readable(actualState(exporter.pid))).toEqual(readable(state));
    const exe = await plantRootProcess();
    const verdict = await verdictOn(exporter, exe);
    expect(verdict).toMatchObject({ writable_location: 0, unknown_executable: 0, cap_sys_ptrace: 0 });
    expect(verdict.permission_denied).toBeGreaterThan(0);
    expect(exporter.output()).toMatch(
      /without cap_sys_ptrace: .*It is in the bounding set .* but not in the ambient set, so the kernel dropped it/,
    );
  }, 60_000);
});

describe('the image (Dockerfile USER and ENTRYPOINT) run with its documented docker run line', () => {
  const runs = documentedDockerRuns(dockerfile);

  it('the Dockerfile documents one docker run line, for this image, with the host PID namespace', () => {
    expect(runs).toHaveLength(1);
    const run = dockerRunRequest(runs[0]!, imageUser);
    expect(run.image).toBe('hostguard-exporter');
    expect(run.pidHost).toBe(true);
  });

  it('has its capabilities in effect, and reports a root process running a binary copied to /tmp', async () => {
    const run = dockerRunRequest(runs[0]!, imageUser);
    const state = credentials(run.request, ['docker']);
    const writable: string[] = [];
    const mounts = run.volumes.map((v) => {
      if (v.source.startsWith('/')) return { container: v.target, host: v.source };
      // A named volume, initialised from the image's directory: owned by root.
      const dir = rootOwnedDir();
      writable.push(dir);
      return { container: v.target, host: dir };
    });
    const exporter = await startAsContainer(state, run.request.readOnlyRootFilesystem, writable, [
      ...hostArgs([...entrypoint, ...run.args], mounts),
      ...testFlags,
    ]);
    expect(readable(actualState(exporter.pid))).toEqual(readable(state));
    const exe = await plantRootProcess();
    const verdict = await verdictOn(exporter, exe);
    expect(verdict, exporter.output()).toMatchObject({ writable_location: 1, unknown_executable: 1, cap_sys_ptrace: 1 });
  }, 60_000);
});

describe('the state directory of a uid-0 exporter without CAP_DAC_OVERRIDE', () => {
  it("one another user owns (an older image's volume, chowned to 65534) stops the start with one line that says what to fix", async () => {
    const run = dockerRunRequest(documentedDockerRuns(dockerfile)[0]!, imageUser);
    const state = credentials(run.request, ['docker']);
    const stateDir = join(rootOwnedDir(), 'state');
    mkdirSync(stateDir, { mode: 0o755 });
    chownSync(stateDir, 65534, 65534);
    const command = hostArgs(entrypoint, [{ container: '/var/lib/hostguard', host: stateDir }]);
    const child = spawnOwned(requireTool('setpriv', 'util-linux'), [...setprivArgs(state), '--', ...command, ...testFlags]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close' comes once stderr is read to its end; a wrong start (listening) ends the wait too.
    const closed = new Promise<number | null>((resolve) => child.once('close', (code: number | null) => resolve(code)));
    const listening = waitForOutput(child, /listening/, 60_000).then(
      () => 'listening',
      () => closed,
    );
    expect(await Promise.race([closed, listening])).toBe(2);
    expect(stderr).toContain(`state directory ${stateDir}: not writable (EACCES`);
    expect(stderr).toContain('fix its owner');
  });
});

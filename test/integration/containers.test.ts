import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { chmodSync, chownSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubePodJoin } from '../../scripts/rules/containers.js';
import { processesSectionSchema } from '../../src/config/sections/processes.js';
import type { FindingsDocument } from '../../src/findings/report.js';
import { silentLogger } from '../../src/log/logger.js';
import { HostObserver } from '../../src/processes/observe.js';
import { repoRoot, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import {
  crioAnnotations,
  crioCgroup,
  debianImage,
  dockerCgroup,
  holdPackage,
  startContainer,
  type TestContainer,
} from '../helpers/containers.js';
import { eventually as pollUntil } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import { startPrometheus } from '../helpers/monitoring-stack.js';
import { spawnForFile, spawnOwned, stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';
import { load } from 'js-yaml';
import {
  kubernetesRequest,
  ociProcess,
  setprivArgs,
  stateAfterExec,
  type PodSecurityContext,
  type SecurityContext,
} from '../helpers/container-runtime.js';
import { installForUnprivileged } from '../helpers/unprivileged.js';
import { waitForOutput } from '../helpers/processes.js';

/**
 * Containers judged from the host, for real: Debian's runc starts containers on an overlayfs root
 * whose lower layer is an image built from Debian packages (with its own dpkg database); the
 * exporter, outside them, reads their mounts, cgroups and runc's state like on a Kubernetes node.
 */

type Finding = FindingsDocument['findings'][number];

const shopPod = { uid: '6f3a7a2e-1b2c-4d5e-8f90-123456789abc', namespace: 'shop', name: 'web-7d4b9c6f5-x2k8p' };
const shopImage = 'registry.example.com/shop/web:1.4';
const ciPod = { uid: '0d7b8c1e-2a3b-4c5d-9e0f-aabbccddeeff', namespace: 'ci', name: 'runner-4' };
const ciImage = 'registry.example.com/ci/builder:7';

// The CI image installs its build dependencies at start: an exception by image, for that kind only.
const policy = `containers:
  allow:
    - image: "registry.example.com/ci/*"
      kinds: [container_package_manager]
`;

let work: string;
let image: string;
let exporter: RunningExporter;
const dockerListing = new Map<string, { name: string; image: string }>();
let dockerApi: NetServer;

/**
 * The Docker Engine API on a unix socket, answering the two requests systeminformation's
 * dockerContainers() makes (GET /containers/json?all=1, then GET /containers/ID/json) with the
 * shape Docker 24 returns. No Docker engine runs on this machine; its API is all the exporter
 * reads of Docker, and this answers it as Docker would for the containers runc runs here.
 */
function startDockerApi(socketPath: string): Promise<NetServer> {
  const server = createNetServer((socket) => {
    let request = '';
    socket.on('data', (chunk: Buffer) => {
      request += chunk.toString();
      if (!request.includes('\r\n\r\n')) return;
      const path = /^GET (\S+) HTTP/.exec(request)?.[1]?.replace(/^http:/, '') ?? '';
      const inspect = /^\/containers\/([0-9a-f]+)\/json/.exec(path);
      let body: unknown;
      if (path.startsWith('/containers/json')) {
        body = [...dockerListing].map(([id, c]) => ({
          Id: id,
          Names: [`/${c.name}`],
          Image: c.image,
          ImageID: 'sha256:5f3b2d9e8c7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c',
          Command: "/bin/sh -c 'sleep 1000'",
          Created: 1764979200,
          Ports: [],
          Labels: {},
          State: 'running',
          Status: 'Up 2 minutes',
          Mounts: [],
        }));
      } else if (inspect && dockerListing.has(inspect[1]!)) {
        body = {
          Id: inspect[1],
          Created: '2025-12-06T00:00:00Z',
          State: { Status: 'running', StartedAt: '2025-12-06T00:00:01Z', FinishedAt: '0001-01-01T00:00:00Z' },
          Config: { Labels: {} },
          Platform: 'linux',
          Driver: 'overlay2',
          RestartCount: 0,
        };
      } else if (path === '/info') {
        body = { ID: 'ZQ4N:2XGU:7KQB:VQ2N', Containers: dockerListing.size };
      }
      const json = JSON.stringify(body ?? { message: 'page not found' });
      socket.end(
        `HTTP/1.0 ${body === undefined ? '404 Not Found' : '200 OK'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
      );
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

beforeAll(async () => {
  requireTool('runc', 'runc');
  work = tempDir('hostguard-containers-');
  image = debianImage(work);
  const socket = join(work, 'docker.sock');
  dockerApi = await startDockerApi(socket);
  const stateDir = join(work, 'state');
  mkdirSync(stateDir);
  writeFileSync(join(work, 'policy.yml'), policy);
  const args = [
    '--state.dir',
    stateDir,
    '--config.file',
    join(work, 'policy.yml'),
    '--collector.disable-defaults',
    '--collector.processes',
  ];
  exporter = await startExporter(args, {
    spawn: (command, argv) => spawnForFile(command, argv, { env: { ...process.env, DOCKER_SOCKET: socket } }),
  });
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (dockerApi ? dockerApi.close(() => resolve()) : resolve()));
});

const short = (id: string) => id.slice(0, 12);

async function findingsOf(container: TestContainer): Promise<Finding[]> {
  const document = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
  return document.findings.filter((f) => f.subject['container_id'] === short(container.id));
}

async function metrics(): Promise<string> {
  return (await fetch(`${exporter.url}/metrics`)).text();
}

/** Poll until `check` returns a value, with a generous deadline: the machine is shared. */
function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  return pollUntil(check, { what, timeoutMs, intervalMs: 250 }) as Promise<T>;
}

async function findingOf(container: TestContainer, kind: string, exe: string, message?: RegExp): Promise<Finding> {
  return (await findingWithOthers(container, kind, exe, message)).finding;
}

/** The finding, and every finding of that container in the same collection. */
async function findingWithOthers(
  container: TestContainer,
  kind: string,
  exe: string,
  message?: RegExp,
): Promise<{ finding: Finding; all: Finding[] }> {
  return eventually(`${kind} of ${exe} in ${short(container.id)}`, async () => {
    const all = await findingsOf(container);
    const finding = all.find((f) => f.kind === kind && f.subject['exe'] === exe && (!message || message.test(f.message)));
    return finding ? { finding, all } : undefined;
  });
}

function shopContainer(args: readonly string[], options: { binds?: Array<{ source: string; target: string }> } = {}): TestContainer {
  return startContainer(image, work, {
    args,
    cgroup: crioCgroup(shopPod.uid),
    annotations: crioAnnotations(shopPod, 'web', shopImage),
    binds: options.binds,
  });
}

describe('processes in containers, judged from the host', () => {
  it("image binaries running in a container are no finding; the container is named from runc's state (CRI-O's annotations)", async () => {
    const container = shopContainer(['/bin/sh', '-c', 'sleep 100000 & sleep 100000 & wait']);
    container.exec(['ls', '/usr/bin']);
    // Seen: the one CRI-O-annotated container of this host has been observed...
    await eventually('the container counted', async () =>
      (sampleValue(await metrics(), 'hostguard_containers', { runtime: 'cri-o', image_source: 'runtime_state' }) ?? 0) >= 1
        ? true
        : undefined,
    );
    // ...and a drift planted afterwards is reported in it, so the collection that reports it judged the image's processes too.
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/marker']);
    container.execDetached(['/usr/local/bin/marker', '100000']);
    const { all } = await findingWithOthers(container, 'container_drift', '/usr/local/bin/marker');
    expect(all.filter((f) => f.subject['exe'] !== '/usr/local/bin/marker')).toEqual([]);
  });

  it("a copy of sleep written into the running container's /usr/local/bin and started is container_drift, with its pod; also once deleted", async () => {
    const container = shopContainer(['/bin/sleep', '100000']);
    const before = sampleValue(await metrics(), 'hostguard_process_starts_total', { verdict: 'container_drift' }) ?? 0;
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/implant']);
    const pid = container.execDetached(['/usr/local/bin/implant', '100000']);

    const drift = await findingOf(container, 'container_drift', '/usr/local/bin/implant');
    expect(drift).toMatchObject({
      severity: 'critical',
      subject: {
        container_runtime: 'cri-o',
        container: 'web',
        image: shopImage,
        pod_uid: shopPod.uid,
        pod_namespace: shopPod.namespace,
        pod: shopPod.name,
      },
    });
    expect(drift.message).toContain(
      `in cri-o container ${short(container.id)} (web, image ${shopImage}, pod shop/${shopPod.name}) (PID ${pid})`,
    );
    // The bounded series: the image's repository and the pod UID, no id, no tag.
    const flagged = { kind: 'container_drift', image: 'registry.example.com/shop/web', pod_uid: shopPod.uid };
    await eventually('the flagged series', async () =>
      (sampleValue(await metrics(), 'hostguard_container_process_flagged', flagged) ?? 0) >= 1 ? true : undefined,
    );
    // The watch of new PIDs counted its start too (what an implant that runs for a second leaves).
    await eventually('the start counted', async () =>
      (sampleValue(await metrics(), 'hostguard_process_starts_total', { verdict: 'container_drift' }) ?? 0) > before ? true : undefined,
    );

    container.exec(['rm', '/usr/local/bin/implant']);
    const deleted = await findingOf(container, 'container_drift', '/usr/local/bin/implant', /has been deleted since/);
    expect(deleted.message).toContain(`(PID ${pid})`);
  });

  it('not drift: an image binary deleted inside, one copied up by a chmod, a binary on a volume; drift: an image binary written over in place', async () => {
    const volume = tempDir('hostguard-volume-');
    const container = shopContainer(['/bin/sleep', '100000'], { binds: [{ source: volume, target: '/srv/data' }] });
    container.exec(['cp', '/bin/sleep', '/srv/data/tool']);
    container.execDetached(['/srv/data/tool', '100000']);
    container.exec(['rm', '/bin/sleep']);
    // Copied up into the writable layer with the image's content: overlayfs keeps the image file's inode.
    container.exec(['chmod', '700', '/usr/bin/tail']);
    container.execDetached(['/usr/bin/tail', '-f', '/dev/null']);
    // Written over in place: copied up too, but its content is no longer the image's.
    container.exec(['sh', '-c', 'cat /srv/data/tool > /usr/bin/head']);
    container.execDetached(['/usr/bin/head', '100000']);

    const { all } = await findingWithOthers(container, 'container_drift', '/usr/bin/head');
    expect(all.map((f) => `${f.kind} ${String(f.subject['exe'])}`)).toEqual(['container_drift /usr/bin/head']);
    expect(sampleValue(await metrics(), 'hostguard_container_processes', { layer: 'other_mount' })).toBeGreaterThanOrEqual(1);
  });

  it('dpkg started inside is container_package_manager; the CI image, excepted by the policy, is not; the finding ends with the process', async () => {
    const shop = shopContainer(['/bin/sleep', '100000']);
    const ci = startContainer(image, work, {
      args: ['/bin/sleep', '100000'],
      cgroup: crioCgroup(ciPod.uid),
      annotations: crioAnnotations(ciPod, 'runner', ciImage),
    });
    const dpkg = shop.execDetached(['dpkg', '-i', holdPackage]);
    ci.execDetached(['dpkg', '-i', holdPackage]);
    // A drift in the CI container: not excepted (the rule names package managers only), and the sign that it was judged.
    ci.exec(['cp', '/bin/sleep', '/usr/local/bin/builder']);
    ci.execDetached(['/usr/local/bin/builder', '100000']);

    const manager = await findingOf(shop, 'container_package_manager', '/usr/bin/dpkg');
    expect(manager).toMatchObject({ severity: 'warning', subject: { image: shopImage, pod_uid: shopPod.uid } });
    expect(manager.message).toMatch(/^the package manager dpkg runs in a running container/);
    const ciFindings = await findingWithOthers(ci, 'container_drift', '/usr/local/bin/builder');
    expect(ciFindings.all.map((f) => f.kind)).toEqual(['container_drift']);

    process.kill(dpkg, 'SIGKILL');
    await eventually('the finding gone with dpkg', async () =>
      (await findingsOf(shop)).some((f) => f.kind === 'container_package_manager') ? undefined : true,
    );
  });

  it("a shell with a terminal (runc exec -t, as kubectl exec -it) is container_shell; the container's sh without one is not", async () => {
    const container = shopContainer(['/bin/sh', '-c', 'exec sleep 100000 & wait']);
    const runc = requireTool('runc', 'runc');
    const script = requireTool('script', 'bsdutils');
    // script gives runc a terminal of its own; runc gives the shell one inside the container.
    const session = spawnOwned(script, ['-qfec', `${runc} exec -t ${container.id} /bin/bash`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });

    const { finding: shell, all } = await findingWithOthers(container, 'container_shell', '/bin/bash');
    expect(shell.message).toMatch(/^the shell bash runs with a terminal on its standard input/);
    expect(all.filter((f) => f.kind === 'container_shell')).toHaveLength(1);
    await stopProcess(session, 'SIGKILL');
  });

  it("a container's process read from cache between looks: its exec, and its executable's deletion, are seen at the very next look", async () => {
    // The shell waits for a file, then becomes a binary written into the container after it started.
    const container = shopContainer(['/bin/sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exec /usr/local/bin/later 100000']);
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/later']);
    const observer = new HostObserver({ procfs: '/proc', rootfs: '/', stateDir: tempDir('hostguard-container-cache-') }, silentLogger);
    const section = processesSectionSchema.parse({});
    const look = async () => {
      const { snapshot, view } = await observer.observe(section);
      return { details: snapshot.processes.find((p) => p.pid === container.pid), facts: view.containers?.get(container.pid) };
    };
    try {
      // Past the reader's young-process window (everything is read again then), and two looks
      // more: one refreshes what was read while young, the next keeps the link and root as read.
      const ticks = Number(readFileSync(`/proc/${container.pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[19]);
      await eventually('the shell past its first seconds', async () => {
        await look();
        return Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) - ticks / 100 > 6 ? true : undefined;
      });
      await look();
      const before = await look();
      expect(before.details?.exe).toMatchObject({ kind: 'path', deleted: false });
      expect(before.facts?.executableLayer).toBe('image');

      container.exec(['touch', '/tmp/go']);
      await eventually('the exec done', async () =>
        readlinkSync(`/proc/${container.pid}/exe`) === '/usr/local/bin/later' ? true : undefined,
      );
      const execed = await look();
      expect(execed.details?.exe).toEqual({ kind: 'path', path: '/usr/local/bin/later', deleted: false });
      expect(execed.facts?.executableLayer).toBe('writable_layer');

      // Two looks for the new link to be kept as well; then its file is deleted inside.
      await look();
      await look();
      container.exec(['rm', '/usr/local/bin/later']);
      const deleted = await look();
      expect(deleted.details?.exe).toEqual({ kind: 'path', path: '/usr/local/bin/later', deleted: true });
      expect(deleted.facts?.executableLayer).toBe('writable_layer');
    } finally {
      observer.close();
    }
  });

  it('on a Docker host, the image and name come from the Docker API through systeminformation', async () => {
    const container = startContainer(image, work, {
      args: ['/bin/sleep', '100000'],
      cgroup: dockerCgroup(),
      beforeStart: (id) => dockerListing.set(id, { name: 'payments-worker', image: 'registry.example.com/payments/worker:2.3' }),
    });
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/miner']);
    container.execDetached(['/usr/local/bin/miner', '100000']);

    const drift = await findingOf(container, 'container_drift', '/usr/local/bin/miner');
    expect(drift.subject).toMatchObject({
      container_runtime: 'docker',
      container: 'payments-worker',
      image: 'registry.example.com/payments/worker:2.3',
    });
    expect(drift.subject['pod_uid']).toBeUndefined();
    expect(sampleValue(await metrics(), 'hostguard_containers', { runtime: 'docker', image_source: 'docker_api' })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it("the documented PromQL join names the flagged pod on a real Prometheus with kube-state-metrics' kube_pod_info", async () => {
    const container = shopContainer(['/bin/sleep', '100000']);
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/joined']);
    container.execDetached(['/usr/local/bin/joined', '100000']);
    await findingOf(container, 'container_drift', '/usr/local/bin/joined');

    // kube-state-metrics' exposition of the two pods (the shape of its own tests), served as it would.
    const exposition = readFileSync(join(repoRoot, 'test/fixtures/containers/kube-state-metrics.prom'), 'utf8');
    const ksm: HttpServer = createHttpServer((_req, res) => res.end(exposition));
    await new Promise<void>((resolve) => ksm.listen(0, '127.0.0.1', resolve));
    try {
      mkdirSync(join(work, 'prometheus'));
      const prometheus = await startPrometheus({
        dir: join(work, 'prometheus'),
        targets: [
          { job: 'hostguard', address: `127.0.0.1:${exporter.port}` },
          { job: 'kube-state-metrics', address: `127.0.0.1:${(ksm.address() as { port: number }).port}` },
        ],
        ruleFiles: [join(repoRoot, 'rules/hostguard-containers.yml')],
      });
      const joined = await eventually(
        'the recorded join',
        async () => {
          const result = await prometheus.query(`${kubePodJoin.record}{kind="container_drift"}`);
          return result.length > 0 ? result : undefined;
        },
        90_000,
      );
      expect(joined.map((r) => r.metric)).toContainEqual(
        expect.objectContaining({
          namespace: 'shop',
          pod: shopPod.name,
          pod_uid: shopPod.uid,
          image: 'registry.example.com/shop/web',
          job: 'hostguard',
        }),
      );
      // The page documents the very expression the rule records.
      expect(readFileSync(join(repoRoot, 'docs/collectors/processes.md'), 'utf8')).toContain(kubePodJoin.expr.join('\n'));
    } finally {
      await new Promise<void>((resolve) => ksm.close(() => resolve()));
    }
  }, 150_000);
});

describe('with only the capabilities the shipped deployments give', () => {
  /** A state directory the exporter's user owns, in a directory anyone may enter. */
  function stateDirFor(uid: number): string {
    const parent = tempDir();
    chmodSync(parent, 0o755);
    const dir = join(parent, 'state');
    mkdirSync(dir);
    chownSync(dir, uid, uid);
    return dir;
  }

  /** The exporter under setpriv with these credentials, the processes collector only. */
  async function exporterAs(credentials: readonly string[], uid: number): Promise<string> {
    const main = join(installForUnprivileged(), 'dist', 'cli', 'main.js');
    const child = spawnOwned(requireTool('setpriv', 'util-linux'), [
      ...credentials,
      '--',
      main,
      `--state.dir=${stateDirFor(uid)}`,
      '--collector.disable-defaults',
      '--collector.processes',
      '--web.listen-address=127.0.0.1:0',
    ]);
    const port = (await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 60_000))[1];
    return `http://127.0.0.1:${port}`;
  }

  async function driftSeenBy(url: string, container: TestContainer, exe: string): Promise<Finding | undefined> {
    const document = (await (await fetch(`${url}/api/findings`)).json()) as FindingsDocument;
    return document.findings.find(
      (f) => f.kind === 'container_drift' && f.subject['container_id'] === short(container.id) && f.subject['exe'] === exe,
    );
  }

  // The unit's sets: a non-root user, the three capabilities ambient (deploy/hostguard-exporter.service).
  const unitCapabilities = /^AmbientCapabilities=(.+)$/m
    .exec(readFileSync(join(repoRoot, 'deploy/hostguard-exporter.service'), 'utf8'))![1]!
    .split(' ')
    .map((c) => `+${c.toLowerCase().replace(/^cap_/, '')}`)
    .join(',');
  const asUnit = [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    `--inh-caps=${unitCapabilities}`,
    `--ambient-caps=${unitCapabilities}`,
    '--no-new-privs',
  ];

  it("the systemd unit's user reads the container's mounts, root-only upper layer and runc's state: drift found and named, nothing added", async () => {
    // The container's directories are root's, mode 0700 (as /var/lib/containerd is): only cap_dac_read_search enters them.
    const container = shopContainer(['/bin/sleep', '100000']);
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/unit-sees']);
    container.execDetached(['/usr/local/bin/unit-sees', '100000']);
    const url = await exporterAs(asUnit, 65534);
    const drift = await eventually("drift seen by the unit's user", () => driftSeenBy(url, container, '/usr/local/bin/unit-sees'));
    expect(drift.subject).toMatchObject({ image: shopImage, pod_uid: shopPod.uid });
  });

  it('without capabilities, the same user sees no drift, and says why: the processes are unjudged for permission_denied', async () => {
    const container = shopContainer(['/bin/sleep', '100000']);
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/unseen']);
    container.execDetached(['/usr/local/bin/unseen', '100000']);
    const url = await exporterAs(['--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs'], 65534);
    const body = await eventually('the container processes counted', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return (sampleValue(text, 'hostguard_processes_unjudged', { reason: 'permission_denied' }) ?? 0) >= 2 ? text : undefined;
    });
    expect(sampleValue(body, 'hostguard_container_processes', { layer: 'writable_layer' })).toBe(0);
    expect(sampleValue(body, 'hostguard_exporter_capability', { capability: 'cap_sys_ptrace' })).toBe(0);
    expect(await driftSeenBy(url, container, '/usr/local/bin/unseen')).toBeUndefined();
  });

  it("the DaemonSet's credentials (uid 0, every capability dropped but the three) see drift too", async () => {
    interface DaemonSet {
      spec: {
        template: {
          spec: { securityContext?: PodSecurityContext; containers: Array<{ name: string; securityContext?: SecurityContext }> };
        };
      };
    }
    const pod = (load(readFileSync(join(repoRoot, 'deploy/kubernetes/daemonset.yaml'), 'utf8')) as DaemonSet).spec.template.spec;
    const securityContext = pod.containers.find((c) => c.name === 'hostguard-exporter')!.securityContext;
    const state = stateAfterExec(ociProcess(kubernetesRequest(securityContext, pod.securityContext, { uid: 0, gid: 0 }), 'containerd'));
    const container = shopContainer(['/bin/sleep', '100000']);
    container.exec(['cp', '/bin/sleep', '/usr/local/bin/daemonset-sees']);
    container.execDetached(['/usr/local/bin/daemonset-sees', '100000']);
    const url = await exporterAs(setprivArgs(state), 0);
    await eventually("drift seen with the DaemonSet's credentials", () => driftSeenBy(url, container, '/usr/local/bin/daemonset-sees'));
  });
});

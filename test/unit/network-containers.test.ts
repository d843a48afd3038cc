import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/load-policy.js';
import { defaultNetworkTools } from '../../src/config/sections/outbound.js';
import { defaultInterpreters } from '../../src/config/sections/processes.js';
import type { ContainerIdentity } from '../../src/containers/identity.js';
import { containerNaming, type ContainerOf } from '../../src/network/container-naming.js';
import { ContainerStdioWatch, holdingsOf } from '../../src/network/container-stdio.js';
import { outboundFindings } from '../../src/network/judge-outbound.js';
import { judgeShellOnSocket, shellOnSocketFindings } from '../../src/network/judge-shell-on-socket.js';
import type { Ownership, SocketOnStdio, SocketOwner } from '../../src/network/snapshot.js';
import { socketStates, type NetSocket } from '../../src/procfs/net.js';
import { tempDir } from '../helpers/cli.js';

/**
 * Network findings of processes in containers name the container as the processes collector's
 * container findings do; sockets on standard streams in a container's own network namespace are
 * read from that namespace's tables, once per namespace and only when a process there has one.
 */

const defaults = parsePolicy('', 'p.yml').policy;
const programs = { interpreters: defaultInterpreters, networkTools: defaultNetworkTools };

const shopWeb: ContainerIdentity = {
  runtime: 'cri-o',
  id: '3f2a9c1d0b7e5a6f3f2a9c1d0b7e5a6f3f2a9c1d0b7e5a6f3f2a9c1d0b7e5a6f',
  podUid: '6f3a7a2e-1b2c-4d5e-8f90-123456789abc',
  image: 'registry.example.com/shop/web:1.4',
  name: 'web',
  podNamespace: 'shop',
  podName: 'web-7d4b9c6f5-x2k8p',
  imageSource: 'runtime_state',
};
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

const owner = (pid: number, exe: string): SocketOwner => ({ pid, exe, uid: 0, user: 'root', userClass: 'root', self: false });
const tcp = (localPort: number, remote: string, remotePort: number, inode: number): NetSocket => ({
  protocol: 'tcp',
  family: 4,
  localAddress: '10.0.0.5',
  localPort,
  remoteAddress: remote,
  remotePort,
  state: socketStates.established,
  uid: 0,
  inode,
});
const containers = (entries: Array<[number, ContainerIdentity]>): ContainerOf => {
  const map = new Map(entries);
  return (pid) => map.get(pid);
};

describe('naming the container of a network finding', () => {
  it('a host process is named by nothing; a container process by the subject fields and phrase of container findings', () => {
    expect(containerNaming([10], containers([]))).toEqual({ subject: {}, phrase: '' });
    expect(containerNaming([10], undefined)).toEqual({ subject: {}, phrase: '' });
    const named = containerNaming([10, 20], containers([[20, shopWeb]]));
    expect(named.subject).toEqual({
      container_runtime: 'cri-o',
      container_id: '3f2a9c1d0b7e',
      container: 'web',
      image: 'registry.example.com/shop/web:1.4',
      pod_uid: shopWeb.podUid,
      pod_namespace: 'shop',
      pod: 'web-7d4b9c6f5-x2k8p',
    });
    expect(named.phrase).toBe(
      ', in cri-o container 3f2a9c1d0b7e (web, image registry.example.com/shop/web:1.4, pod shop/web-7d4b9c6f5-x2k8p)',
    );
    // A root of its own that no runtime's cgroup names: said to be a container, never given a made-up id.
    expect(containerNaming([30], containers([[30, unnamed]]))).toEqual({
      subject: { container_runtime: 'unknown' },
      phrase: ', in a container (image unknown)',
    });
  });

  it('a reverse shell in a container is a shell_on_socket that names it; the same shell on the host is another finding, unnamed', () => {
    const inside = {
      owner: owner(4300, '/bin/bash'),
      fds: [0, 1, 2],
      socket: tcp(40000, '10.203.0.1', 4444, 9001),
      role: 'outgoing',
      listener: undefined,
    } satisfies SocketOnStdio;
    const onHost = { ...inside, owner: owner(4400, '/bin/bash'), socket: tcp(40001, '10.203.0.1', 4444, 9002) } satisfies SocketOnStdio;
    const ownNetwork = {
      ...inside,
      owner: owner(4301, '/bin/bash'),
      socket: tcp(40002, '10.203.0.1', 4444, 9003),
      networkNamespace: 'net:[4026532999]',
    } satisfies SocketOnStdio;
    const shells = judgeShellOnSocket([inside, onHost, ownNetwork], defaults.shell_on_socket, programs);
    const findings = shellOnSocketFindings(
      shells,
      defaults.outbound,
      containers([
        [4300, shopWeb],
        [4301, shopWeb],
      ]),
    );
    // The two shells of one container to one destination are one finding (the PIDs are in the message only).
    expect(findings).toHaveLength(2);
    const [container, host] = [
      findings.find((f) => f.subject['container_id'] !== undefined)!,
      findings.find((f) => f.subject['container_id'] === undefined)!,
    ];
    expect(container).toMatchObject({
      severity: 'critical',
      subject: {
        exe: '/bin/bash',
        program_class: 'interpreter',
        direction: 'outgoing',
        container_runtime: 'cri-o',
        image: shopWeb.image,
        pod_uid: shopWeb.podUid,
      },
    });
    expect(container.message).toBe(
      '/bin/bash (pid 4300, in cri-o container 3f2a9c1d0b7e (web, image registry.example.com/shop/web:1.4, pod shop/web-7d4b9c6f5-x2k8p)) has its standard input, output and error on a tcp connection it opened to 10.203.0.1:4444: a reverse shell',
    );
    expect(Object.keys(host.subject)).not.toContain('container_runtime');
    expect(host.message).toBe(
      '/bin/bash (pid 4400) has its standard input, output and error on a tcp connection it opened to 10.203.0.1:4444: a reverse shell',
    );
    // Seen in the container's own network namespace, the message says which.
    const own = shellOnSocketFindings(
      judgeShellOnSocket([ownNetwork], defaults.shell_on_socket, programs),
      defaults.outbound,
      containers([[4301, shopWeb]]),
    );
    expect(own[0]!.message).toMatch(/a reverse shell \(in network namespace net:\[4026532999\]\)$/);
  });

  it('an outgoing connection judged unexpected names the container of its process', () => {
    const ownership: Ownership = { kind: 'known', owners: [owner(5100, '/usr/local/bin/agent')] };
    const connection = { ...tcp(40010, '10.203.0.1', 8443, 9100), ownership, maybeAccepted: false };
    const [inContainer] = outboundFindings(
      [{ connection, reason: 'flagged_process', remoteClass: 'private' }],
      containers([[5100, shopWeb]]),
    );
    expect(inContainer!.subject).toMatchObject({
      exe: '/usr/local/bin/agent',
      reason: 'flagged_process',
      container_id: '3f2a9c1d0b7e',
      pod: 'web-7d4b9c6f5-x2k8p',
    });
    expect(inContainer!.message).toContain('/usr/local/bin/agent (pid 5100, in cri-o container 3f2a9c1d0b7e (web, ');
    const [onHost] = outboundFindings([{ connection, reason: 'flagged_process', remoteClass: 'private' }]);
    expect(onHost!.subject['container_id']).toBeUndefined();
    expect(onHost!.message).toMatch(/^\/usr\/local\/bin\/agent \(pid 5100\) is connected/);
  });
});

describe("sockets on standard streams in a container's own network namespace", () => {
  it("holdings are the TCP and UDP sockets of the namespace's tables, one per process and socket, fds ascending", () => {
    const socket = tcp(40000, '10.203.0.1', 4444, 7001);
    const holdings = holdingsOf(
      [
        {
          pid: 1,
          sockets: [
            { fd: 2, inode: 7001 },
            { fd: 0, inode: 7001 },
            { fd: 1, inode: 8888 },
          ],
        },
        { pid: 2, sockets: [{ fd: 0, inode: 9999 }] },
      ],
      [socket],
    );
    expect(holdings).toEqual([{ pid: 1, fds: [0, 2], socket }]);
  });

  /** A procfs of files: per process its network namespace, standard streams and (for the namespace) its tables. */
  function fakeProcfs() {
    const root = tempDir();
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    return {
      root,
      process(pid: number, netns: string, stdio: Record<number, string>, tcpTable?: string) {
        rmSync(`${root}/${pid}`, { recursive: true, force: true });
        mkdirSync(`${root}/${pid}/fd`, { recursive: true });
        mkdirSync(`${root}/${pid}/ns`);
        symlinkSync(netns, `${root}/${pid}/ns/net`);
        for (const [fd, target] of Object.entries(stdio)) symlinkSync(target, `${root}/${pid}/fd/${fd}`);
        if (tcpTable !== undefined) {
          mkdirSync(`${root}/${pid}/net`);
          writeFileSync(`${root}/${pid}/net/tcp`, header + tcpTable);
        }
      },
      gone(pid: number) {
        rmSync(`${root}/${pid}`, { recursive: true, force: true });
      },
    };
  }
  // 10.203.0.2:40000 -> 10.203.0.1:4444, established, inode 7001.
  const reverseShellLine =
    '   0: 0200CB0A:9C40 0100CB0A:115C 01 00000000:00000000 00:00000000 00000000     0        0 7001 1 0000000000000000 20 4 30 10 -1\n';

  it("reads each process when first seen, the namespace's tables only when one holds a socket; the host's namespace is left to /proc/net", async () => {
    const proc = fakeProcfs();
    const now = { t: 0 };
    const watch = new ContainerStdioWatch(proc.root, { fullRescanMs: 1000, now: () => now.t });
    const [server, shell, shared] = [
      { pid: 10, key: {} },
      { pid: 11, key: {} },
      { pid: 12, key: {} },
    ];
    proc.process(10, 'net:[4026532500]', { 0: '/dev/null', 1: 'pipe:[55]', 2: 'pipe:[55]' });
    proc.process(12, 'net:[4026531840]', { 0: 'socket:[7100]' });

    const quiet = await watch.observe([server, shared], 'net:[4026531840]');
    expect(quiet).toEqual({ namespaces: [], processesRead: 2, namespacesUnread: 0 });
    // Nothing new, no socket: nothing is read again until the full rescan.
    expect((await watch.observe([server, shared], 'net:[4026531840]')).processesRead).toBe(1);

    proc.process(11, 'net:[4026532500]', { 0: 'socket:[7001]', 1: 'socket:[7001]', 2: 'socket:[7001]' }, reverseShellLine);
    const found = await watch.observe([server, shell, shared], 'net:[4026531840]');
    expect(found.namespaces).toHaveLength(1);
    expect(found.namespaces[0]).toMatchObject({
      netns: 'net:[4026532500]',
      holdings: [{ pid: 11, fds: [0, 1, 2], socket: { remoteAddress: '10.203.0.1', remotePort: 4444, localPort: 40000 } }],
    });

    // The shell exits: its namespace's tables cannot be read through it, and nobody else there holds a socket.
    proc.gone(11);
    const after = await watch.observe([server, shell], 'net:[4026531840]');
    expect(after.namespaces).toEqual([]);
  });

  it('a socket moved onto a standard stream of a process already seen is found at the next full rescan', async () => {
    const proc = fakeProcfs();
    const now = { t: 0 };
    const watch = new ContainerStdioWatch(proc.root, { fullRescanMs: 1000, now: () => now.t });
    const python = { pid: 20, key: {} };
    proc.process(20, 'net:[4026532600]', { 0: 'pipe:[1]' });
    expect((await watch.observe([python], 'net:[4026531840]')).namespaces).toEqual([]);
    proc.process(20, 'net:[4026532600]', { 0: 'socket:[7001]' }, reverseShellLine);
    now.t = 500;
    expect((await watch.observe([python], 'net:[4026531840]')).namespaces).toEqual([]);
    now.t = 1000;
    const found = await watch.observe([python], 'net:[4026531840]');
    expect(found.namespaces.map((n) => n.holdings.map((h) => h.pid))).toEqual([[20]]);
  });
});

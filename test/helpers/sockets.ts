import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { linkSync } from 'node:fs';
import { createServer, Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { readEphemeralPorts } from '../../src/procfs/local-ports.js';
import { spawnOwned, waitForOutput } from './processes.js';

/** Real sockets for the network tests: listeners in the test process and in child processes. */

const opened: Array<Server | UdpSocket> = [];

afterEach(async () => {
  await Promise.all(
    opened.splice(0).map((s) => new Promise<void>((resolve) => (s instanceof Server ? closeServer(s, resolve) : closeUdp(s, resolve)))),
  );
});

const connections = new WeakMap<Server, Set<Socket>>();

/** Close a server without waiting for its clients (child processes that the test stops later). */
function closeServer(server: Server, done: () => void): void {
  for (const socket of connections.get(server) ?? []) socket.destroy();
  server.close(() => done());
}

function closeUdp(socket: UdpSocket, done: () => void): void {
  try {
    socket.close(done);
  } catch {
    done();
  }
}

/** A TCP server on `host` (port 0: any free one), closed after the test. */
export async function tcpListener(host: string, port = 0): Promise<{ server: Server; port: number }> {
  const accepted = new Set<Socket>();
  const server = createServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => undefined).on('close', () => accepted.delete(socket));
  });
  connections.set(server, accepted);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host === '::' }, resolve);
  });
  opened.push(server);
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** A bound UDP socket (what `ss -uln` lists), closed after the test. */
export async function udpListener(host: string, port = 0): Promise<{ socket: UdpSocket; port: number }> {
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: host === '::' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, resolve);
  });
  opened.push(socket);
  return { socket, port: socket.address().port };
}

/** A port that was free a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { server, port } = await tcpListener(host);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  opened.splice(opened.indexOf(server), 1);
  return port;
}

/** A port that was free a moment ago and lies below the host's ephemeral range, where servers listen. */
export async function freePortBelowEphemeralRange(host = '127.0.0.1'): Promise<number> {
  const { range } = readEphemeralPorts('/proc');
  const lowest = Math.max(1024, range.from - 20_000);
  if (lowest >= range.from) throw new Error(`no room below the ephemeral range ${range.from}-${range.to} for a server port`);
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = lowest + Math.floor(Math.random() * (range.from - lowest));
    const server = await tcpListener(host, port).catch(() => undefined);
    if (!server) continue;
    await new Promise<void>((resolve) => server.server.close(() => resolve()));
    opened.splice(opened.indexOf(server.server), 1);
    return port;
  }
  throw new Error(`no free port found in ${lowest}-${range.from - 1}`);
}

export interface ChildListeners {
  readonly child: ChildProcess;
  readonly ports: { readonly tcp4: number; readonly tcp6: number; readonly udp4: number; readonly udp6: number };
}

const childListenerScript = `
const net = require('node:net');
const dgram = require('node:dgram');
const tcpPort = Number(process.env.TCP_PORT || 0);
const listen = (host, port) => new Promise((resolve) => { const s = net.createServer(); s.listen({ host, port }, () => resolve(s.address().port)); });
const bind = (type, host) => new Promise((resolve) => { const s = dgram.createSocket(type); s.bind(0, host, () => resolve(s.address().port)); });
Promise.all([listen('127.0.0.1', tcpPort), listen('::1', 0), bind('udp4', '127.0.0.1'), bind('udp6', '::1')]).then(([tcp4, tcp6, udp4, udp6]) => {
  console.log('LISTENING ' + JSON.stringify({ tcp4, tcp6, udp4, udp6 }));
});
setInterval(() => {}, 60000);
`;

/**
 * A separate process (node, or `executable`: a hard link to node under another name) listening on
 * TCP and UDP over IPv4 and IPv6 loopback; TCP IPv4 on `tcpPort` when given.
 */
export async function childListeners(
  options: { executable?: string; tcpPort?: number; spawn?: SpawnOptions } = {},
): Promise<ChildListeners> {
  const child = spawnOwned(options.executable ?? process.execPath, ['-e', childListenerScript], {
    ...options.spawn,
    env: { ...process.env, TCP_PORT: String(options.tcpPort ?? 0) },
  });
  const match = await waitForOutput(child, /LISTENING (\{.*\})/);
  return { child, ports: JSON.parse(match[1]!) as ChildListeners['ports'] };
}

/** A child process that connects to host:port and stays connected; resolves once it is. */
export async function childConnection(host: string, port: number, executable = process.execPath): Promise<ChildProcess> {
  const script = `const s = require('node:net').connect(${port}, ${JSON.stringify(host)}, () => console.log('CONNECTED ' + s.localPort)); setInterval(() => {}, 60000);`;
  const child = spawnOwned(executable, ['-e', script]);
  await waitForOutput(child, /CONNECTED \d+/);
  return child;
}

/**
 * The node binary under another path (a hard link: same file, so no copy): /proc/PID/exe shows the
 * path it was started by, so to the exporter it is a different program.
 */
export function nodeUnderAnotherName(dir: string, name: string): string {
  const path = join(dir, name);
  linkSync(process.execPath, path);
  return path;
}

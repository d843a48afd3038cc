import { isLoopback, isUnspecified, parseIp, type IpBytes } from '../policy/cidr.js';
import { socketStates, type NetSocket } from '../procfs/net.js';

// The same few local addresses come back on every collection: parse each once.
const parsed = new Map<string, IpBytes | undefined>();

export function parseIpOnce(address: string): IpBytes | undefined {
  if (parsed.has(address)) return parsed.get(address);
  if (parsed.size >= 10_000) parsed.clear();
  const ip = parseIp(address);
  parsed.set(address, ip);
  return ip;
}

/** What `ss -tuln` lists: TCP sockets in LISTEN and UDP sockets that are bound but not connected. */
export function isListening(socket: NetSocket): boolean {
  return socket.protocol === 'tcp' ? socket.state === socketStates.listen : socket.state === socketStates.close;
}

/** How a listener's bind address appears in labels and keys: "any", "loopback", or the address itself. */
export function bindAddressLabel(address: string): string {
  const ip = parseIpOnce(address);
  if (!ip) return address;
  if (isUnspecified(ip)) return 'any';
  if (isLoopback(ip)) return 'loopback';
  // An IPv4-mapped bind address is shown as the IPv4 address it is.
  return ip.family === 4 ? ip.bytes.join('.') : address;
}

export function isLoopbackAddress(address: string): boolean {
  const ip = parseIpOnce(address);
  return ip !== undefined && isLoopback(ip);
}

/**
 * Connections this host opened: established (or being established) TCP and connected UDP sockets
 * whose local port is not one of our listeners' (those are incoming). Loopback peers are the host
 * talking to itself, not outbound, unless `watchLoopback`. With `accepted`, a connection seen once
 * while a listener owned its port stays incoming after the listener closes.
 */
export function outgoingConnections(
  sockets: readonly NetSocket[],
  listeners: readonly NetSocket[],
  watchLoopback: boolean,
  accepted?: AcceptedConnections,
): NetSocket[] {
  const listening = new Map<string, string[]>();
  for (const l of listeners) {
    const key = `${l.protocol}/${l.localPort}`;
    const list = listening.get(key);
    if (list) list.push(l.localAddress);
    else listening.set(key, [l.localAddress]);
  }
  const onListeningPort = (s: NetSocket) =>
    listening.get(`${s.protocol}/${s.localPort}`)?.some((address) => bindAddressLabel(address) === 'any' || sameAddress(address, s.localAddress)) ?? false;
  const connected = sockets.filter((s) =>
    s.protocol === 'tcp' ? s.state === socketStates.established || s.state === socketStates.synSent : s.state === socketStates.established,
  );
  const incoming = accepted ? accepted.track(connected, onListeningPort) : onListeningPort;
  return connected.filter((s) => !incoming(s) && (watchLoopback || !isLoopbackAddress(s.remoteAddress)));
}

/**
 * The direction of a connection is known only while a listener owns its local port: once the
 * server closes its listener (a restart, a one-shot backdoor), its accepted connections would look
 * like ones it opened. Kept across collections, by socket inode, until the socket leaves the tables.
 */
export class AcceptedConnections {
  private inodes = new Set<number>();

  /** Remember the connections incoming now, forget those no longer in `connected`; says which are incoming. */
  track(connected: readonly NetSocket[], incomingNow: (socket: NetSocket) => boolean): (socket: NetSocket) => boolean {
    const kept = new Set<number>();
    for (const s of connected) if (s.inode !== 0 && (this.inodes.has(s.inode) || incomingNow(s))) kept.add(s.inode);
    this.inodes = kept;
    return (s) => (s.inode === 0 ? incomingNow(s) : kept.has(s.inode));
  }
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const ipA = parseIpOnce(a);
  const ipB = parseIpOnce(b);
  return ipA !== undefined && ipB !== undefined && ipA.family === ipB.family && ipA.bytes.every((byte, i) => byte === ipB.bytes[i]);
}

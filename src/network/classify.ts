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
 * talking to itself, not outbound, unless `watchLoopback`.
 */
export function outgoingConnections(sockets: readonly NetSocket[], listeners: readonly NetSocket[], watchLoopback: boolean): NetSocket[] {
  const listening = new Map<string, string[]>();
  for (const l of listeners) {
    const key = `${l.protocol}/${l.localPort}`;
    const list = listening.get(key);
    if (list) list.push(l.localAddress);
    else listening.set(key, [l.localAddress]);
  }
  const incoming = (s: NetSocket) =>
    listening.get(`${s.protocol}/${s.localPort}`)?.some((address) => bindAddressLabel(address) === 'any' || sameAddress(address, s.localAddress)) ?? false;
  return sockets.filter((s) => {
    const connected =
      s.protocol === 'tcp' ? s.state === socketStates.established || s.state === socketStates.synSent : s.state === socketStates.established;
    return connected && !incoming(s) && (watchLoopback || !isLoopbackAddress(s.remoteAddress));
  });
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const ipA = parseIpOnce(a);
  const ipB = parseIpOnce(b);
  return ipA !== undefined && ipB !== undefined && ipA.family === ipB.family && ipA.bytes.every((byte, i) => byte === ipB.bytes[i]);
}

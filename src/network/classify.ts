import { isLoopback, isUnspecified, parseIp, type IpBytes } from '../match/cidr.js';
import { inPortRange, type PortRange } from '../match/port-range.js';
import type { EphemeralPorts } from '../procfs/local-ports.js';
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

/** Where outgoing connections are looked for, and what tells them from accepted ones. */
export interface DirectionOptions {
  /** Judge connections to loopback too (normally the host talking to itself, not outbound). */
  readonly watchLoopback: boolean;
  /** The host's ephemeral ports (ip_local_port_range less ip_local_reserved_ports), read from procfs. */
  readonly ephemeralPorts: EphemeralPorts;
  /** Connections seen while a listener owned their port, kept across collections. */
  readonly accepted?: AcceptedConnections;
}

/**
 * A connection no listener explains. `maybeAccepted` when its ports say it may be a session a server
 * accepted before closing its listener (see `portsSayAccepted`): a hint for judgment, which decides
 * by the program holding it, never a verdict.
 */
export interface UnexplainedConnection extends NetSocket {
  readonly maybeAccepted: boolean;
}

/** A connection of this host, either way: `incoming` when a listener explains it (now, or when it was seen). */
export interface ClassifiedConnection extends UnexplainedConnection {
  readonly incoming: boolean;
}

/**
 * Every connection of this host: established (or being established) TCP and connected UDP sockets,
 * each incoming or not. A connection is incoming when a listener owns its local port now, or when
 * it was seen while one did (`accepted`); of the rest, those whose ports look like an accepted
 * session are marked `maybeAccepted`.
 */
export function classifyConnections(
  sockets: readonly NetSocket[],
  listeners: readonly NetSocket[],
  options: Omit<DirectionOptions, 'watchLoopback'>,
): ClassifiedConnection[] {
  const listening = new Map<string, string[]>();
  for (const l of listeners) {
    const key = `${l.protocol}/${l.localPort}`;
    const list = listening.get(key);
    if (list) list.push(l.localAddress);
    else listening.set(key, [l.localAddress]);
  }
  const onListeningPort = (s: NetSocket) =>
    listening
      .get(`${s.protocol}/${s.localPort}`)
      ?.some((address) => bindAddressLabel(address) === 'any' || sameAddress(address, s.localAddress)) ?? false;
  const connected = sockets.filter(isConnection);
  const seenAccepted = options.accepted ? options.accepted.track(connected, onListeningPort) : onListeningPort;
  return connected.map((s) => {
    const incoming = seenAccepted(s);
    return { ...s, incoming, maybeAccepted: !incoming && portsSayAccepted(s, options.ephemeralPorts) };
  });
}

/** Established or connecting TCP, connected UDP: a socket with a peer. */
export function isConnection(s: NetSocket): boolean {
  return s.protocol === 'tcp'
    ? s.state === socketStates.established || s.state === socketStates.synSent
    : s.state === socketStates.established;
}

/**
 * Connections this host may have opened: the connections that are not incoming. Loopback peers are
 * the host talking to itself, not outbound, unless `watchLoopback`.
 */
export function outgoingConnections(
  sockets: readonly NetSocket[],
  listeners: readonly NetSocket[],
  options: DirectionOptions,
): UnexplainedConnection[] {
  return classifyConnections(sockets, listeners, options).filter((c) => isOutgoing(c, options.watchLoopback));
}

export function isOutgoing(c: ClassifiedConnection, watchLoopback: boolean): boolean {
  return !c.incoming && (watchLoopback || !isLoopbackAddress(c.remoteAddress));
}

/** IANA's dynamic ports (RFC 6335), where Windows and macOS pick a client's local port. */
const dynamicPorts: PortRange = { from: 49152, to: 65535 };

/**
 * Whether the ports of an established TCP connection that no listener explains say it may have been
 * accepted by a server whose listener has closed (a restart, a drain, a one-shot server) rather than
 * opened from here: a client that does not bind a port before connect() gets one of the host's
 * ephemeral ports, while an accepted connection keeps the listener's port, normally outside them.
 * So: our port is not one connect() would pick, and the peer's is one a client's connect() picks
 * (our range, shared by Linux peers, or the dynamic ports). Ports are easy to choose, so this only
 * marks a candidate; judgment takes it as accepted only when its program may listen on that port.
 * - A connection still being made (SYN_SENT) was opened from here, and UDP has no accept().
 * - A server on a port inside the range, once its listener closed, is not a candidate (the port
 *   says nothing); one seen while its listener was open stays incoming, and ports listed in
 *   ip_local_reserved_ports are outside the range, as the kernel never hands them to connect().
 * - A peer on a port a service would use (below 1024, or a registered port such as 4444 or 8443
 *   outside the client ranges) makes it outgoing whatever its program: a client that binds a fixed
 *   local port first (the source-port-53 firewall trick) is still seen calling such a service.
 */
function portsSayAccepted(socket: NetSocket, ports: EphemeralPorts): boolean {
  if (socket.protocol !== 'tcp' || socket.state !== socketStates.established) return false;
  return (
    !isEphemeralPort(socket.localPort, ports) &&
    (inPortRange(ports.range, socket.remotePort) || inPortRange(dynamicPorts, socket.remotePort))
  );
}

function isEphemeralPort(port: number, ports: EphemeralPorts): boolean {
  return inPortRange(ports.range, port) && !ports.reserved.some((r) => inPortRange(r, port));
}

/**
 * The direction of a connection is seen only while a listener owns its local port: once the server
 * closes its listener (a restart, a one-shot backdoor), its accepted connections would look like
 * ones it opened, which ports alone cannot always tell. Kept across collections, by socket inode,
 * until the socket leaves the tables.
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

import { readNetTables, type NetProtocol, type NetSocket, type NetTablesRead } from '../procfs/net.js';
import { readProcess } from '../procfs/process-table.js';
import { readStdioSockets, stillHolds, type SocketHolder } from '../procfs/socket-owners.js';
import type { UserDirectory } from '../rootfs/users.js';
import {
  bindAddressLabel,
  classifyConnections,
  isListening,
  isOutgoing,
  type ClassifiedConnection,
  type DirectionOptions,
} from './classify.js';
import type {
  NetworkSnapshot,
  ObservedConnection,
  ObservedSocket,
  Ownership,
  SocketOnStdio,
  SocketOwner,
  StdioSocketRole,
} from './snapshot.js';
import type { SocketOwnerIndex } from './socket-owner-index.js';
import type { ContainerProcess, ContainerStdioWatch, ForeignNamespace } from './container-stdio.js';

/** How connections are observed; without it only listeners are read. */
export interface ConnectionOptions extends DirectionOptions {
  /**
   * Which outgoing connections need their program for the outbound judgment (those that may be
   * accepted sessions always do); undefined when outgoing connections are not judged.
   */
  readonly needsOwner?: (socket: NetSocket) => boolean;
  /** Look for processes whose standard input, output or error is a TCP or UDP socket. */
  readonly stdio: boolean;
}

export interface ObserveOptions {
  readonly procfs: string;
  readonly index: SocketOwnerIndex;
  readonly users: UserDirectory;
  readonly connections?: ConnectionOptions;
  /** The exporter's own pids (this process, the serving exporter), so its own listener is recognised. */
  readonly selfPids?: ReadonlySet<number>;
  /**
   * Processes in containers, for sockets on standard streams in network namespaces other than the
   * exporter's (`hostNetns`), which its /proc/net does not list.
   */
  readonly containers?: {
    readonly watch: ContainerStdioWatch;
    readonly processes: readonly ContainerProcess[];
    readonly hostNetns: string | undefined;
  };
  /** How the tables are read (again, for some protocols, when a socket is not found): /proc/net by default; tests time races with it. */
  readonly readTables?: (protocols?: ReadonlySet<NetProtocol>) => NetTablesRead;
}

/** Standard streams are read this many processes at a time (three readlinks each). */
const stdioBatch = 64;

/**
 * Read the socket tables and find who holds each listener (and each connection that needs it), and
 * which processes have a socket as a standard stream. Observation only: nothing here decides what
 * is expected.
 */
export async function observeNetwork(options: ObserveOptions): Promise<NetworkSnapshot> {
  const { procfs, index } = options;
  const c = options.connections;
  const slicer = index.newSlicer();
  // Without connections only listeners matter, and the TCP tables can be read up to them.
  const readTables =
    options.readTables ?? ((protocols?: ReadonlySet<NetProtocol>) => readNetTables(procfs, { protocols, tcpListenersOnly: !c }));
  const tables = readTables();
  let listeners: NetSocket[] = tables.sockets.filter(isListening);
  let all: ClassifiedConnection[] = c ? classifyConnections(tables.sockets, listeners, c) : [];
  const present = new Set<number>();
  for (const s of tables.sockets) if (s.inode !== 0) present.add(s.inode);

  const judgedOutgoing = (s: ClassifiedConnection) => c?.needsOwner !== undefined && isOutgoing(s, c.watchLoopback);
  // Judgment takes a connection whose ports look accepted as a session only if its program may listen there.
  const needsOwner = (s: ClassifiedConnection) => judgedOutgoing(s) && (s.maybeAccepted || c!.needsOwner!(s));
  // Every connection's holders are looked for when standard streams are: they are where a shell on a socket hides.
  const lookedUp = c?.stdio ? all : all.filter(needsOwner);
  // Only the connections whose owner is judged need it proven; the rest only name processes to look at.
  const judgedOwners = new Set(all.filter(needsOwner).map((s) => s.inode));
  const lookup = await index.lookup(
    listeners.map((s) => s.inode),
    lookedUp.map((s) => s.inode),
    present,
    slicer,
    (inode) => judgedOwners.has(inode),
  );

  // A socket no process holds may have closed after the table was read: look again before calling its owner unknown.
  let socketsGone = 0;
  if (lookup.notFound.size > 0 && lookup.scan) {
    const protocols = new Set([...listeners, ...lookedUp].filter((s) => lookup.notFound.has(s.inode)).map((s) => s.protocol));
    const still = new Set(readTables(protocols).sockets.map((s) => s.inode));
    const gone = new Set([...lookup.notFound.keys()].filter((inode) => !still.has(inode)));
    if (gone.size > 0) {
      const open = (s: NetSocket) => !gone.has(s.inode);
      const before = listeners.length + all.length;
      listeners = listeners.filter(open);
      all = all.filter(open);
      socketsGone = before - listeners.length - all.length;
    }
  }

  const stdio = c?.stdio ? await readStdio(procfs, index, lookup.stdioCandidates, [...listeners, ...all]) : { holdings: [], denied: 0 };
  const containers = options.containers;
  const foreign = c?.stdio && containers ? (await containers.watch.observe(containers.processes, containers.hostNetns)).namespaces : [];

  // Once per look: lookups then answer from what it read.
  options.users.refresh();
  // A scan that yielded to the event loop gave time for a holder it (or the cache check before it)
  // found to exit and its pid to be reused: read after the owner, the descriptor proves it is the same process.
  const owners = new OwnerReader(procfs, options.users, options.selfPids ?? new Set([process.pid]), lookup.scan?.yielded ?? false);
  const ownership = (s: NetSocket, wanted: boolean): Ownership => {
    if (s.inode === 0) return { kind: 'kernel' };
    const holders = lookup.holders.get(s.inode);
    if (holders) {
      const known = owners.read(holders, s.inode);
      if (known.length > 0) return { kind: 'known', owners: known };
      return { kind: 'unknown', reason: 'not_found' };
    }
    const unowned = lookup.notFound.get(s.inode);
    if (unowned) return { kind: 'unknown', reason: unowned };
    return wanted ? { kind: 'unknown', reason: 'not_found' } : { kind: 'not_looked_up' };
  };

  const observedListeners = listeners.map((s): ObservedSocket => ({ ...s, ownership: ownership(s, true) }));
  return {
    listeners: observedListeners,
    connections: all.filter(judgedOutgoing).map((s): ObservedConnection => ({ ...s, ownership: ownership(s, needsOwner(s)) })),
    stdio: [...stdioSockets(stdio.holdings, owners, observedListeners), ...(c ? foreignStdioSockets(foreign, owners, c) : [])],
    problems: {
      malformedLines: tables.malformedLines,
      socketsGone,
      processesGone: owners.gone + (lookup.scan?.gone ?? 0),
      fdDenied: (lookup.scan?.denied ?? 0) + stdio.denied,
    },
    processesScanned: lookup.scan?.processes ?? 0,
  };
}

interface StdioHolding {
  readonly pid: number;
  readonly fds: number[];
  readonly socket: NetSocket | ClassifiedConnection;
}

/**
 * The standard streams of the candidates that are TCP or UDP sockets of the tables (a unix socket or
 * a pipe is not: journald's stream, a parent's socketpair). What is found is taught to the index, so
 * a socket moved onto fd 0 stays checked with one readlink.
 */
async function readStdio(
  procfs: string,
  index: SocketOwnerIndex,
  candidates: ReadonlySet<number>,
  sockets: readonly (NetSocket | ClassifiedConnection)[],
): Promise<{ holdings: StdioHolding[]; denied: number }> {
  const byInode = new Map<number, NetSocket | ClassifiedConnection>();
  for (const s of sockets) if (s.inode !== 0) byInode.set(s.inode, s);
  const pids = [...candidates];
  const holdings: StdioHolding[] = [];
  let denied = 0;
  for (let i = 0; i < pids.length; i += stdioBatch) {
    const batch = pids.slice(i, i + stdioBatch);
    const reads = await Promise.all(batch.map((pid) => readStdioSockets(procfs, pid)));
    reads.forEach((read, j) => {
      const pid = batch[j]!;
      if (!read.ok) {
        if (read.problem === 'denied') denied++;
        return;
      }
      for (const { fd, inode } of read.sockets) {
        const socket = byInode.get(inode);
        if (!socket) continue;
        index.learnHolder(inode, { pid, fd });
        const held = holdings.find((h) => h.pid === pid && h.socket.inode === inode);
        if (held) held.fds.push(fd);
        else holdings.push({ pid, fds: [fd], socket });
      }
    });
  }
  return { holdings, denied };
}

function stdioSockets(holdings: readonly StdioHolding[], owners: OwnerReader, listeners: readonly ObservedSocket[]): SocketOnStdio[] {
  const found: SocketOnStdio[] = [];
  for (const h of holdings) {
    const [owner] = owners.read([{ pid: h.pid, fd: h.fds[0]! }], h.socket.inode);
    if (!owner || owner.self) continue;
    // A session whose listener closed before it was seen (a one-shot bind shell) is incoming by its ports.
    const role: StdioSocketRole = !('incoming' in h.socket)
      ? 'listening'
      : h.socket.incoming || h.socket.maybeAccepted
        ? 'incoming'
        : 'outgoing';
    const { socket } = h;
    const listener =
      role === 'listening'
        ? listeners.find((l) => l.inode === socket.inode)
        : role === 'incoming'
          ? listeners.find(
              (l) =>
                l.protocol === socket.protocol &&
                l.localPort === socket.localPort &&
                (bindAddressLabel(l.localAddress) === 'any' || l.localAddress === socket.localAddress),
            )
          : undefined;
    found.push({ owner, fds: h.fds.sort(), socket: stripClassification(socket), role, listener: listener?.ownership });
  }
  return found;
}

/**
 * Sockets on standard streams in other network namespaces, their role told by that namespace's own
 * listeners. Who holds those listeners is not looked up: an `incoming` one has no super-server to excuse it.
 */
function foreignStdioSockets(namespaces: readonly ForeignNamespace[], owners: OwnerReader, options: DirectionOptions): SocketOnStdio[] {
  const found: SocketOnStdio[] = [];
  for (const ns of namespaces) {
    const listeners = ns.sockets.filter(isListening);
    const connections = new Map<number, ClassifiedConnection>();
    // The accepted-connection memory is the host's: a namespace's own is not kept.
    for (const c of classifyConnections(ns.sockets, listeners, { ephemeralPorts: options.ephemeralPorts })) connections.set(c.inode, c);
    for (const h of ns.holdings) {
      const connection = connections.get(h.socket.inode);
      const role: StdioSocketRole | undefined = isListening(h.socket)
        ? 'listening'
        : !connection
          ? undefined
          : connection.incoming || connection.maybeAccepted
            ? 'incoming'
            : 'outgoing';
      if (!role) continue;
      const [owner] = owners.read([{ pid: h.pid, fd: h.fds[0]! }], h.socket.inode);
      if (!owner || owner.self) continue;
      found.push({ owner, fds: h.fds, socket: stripClassification(h.socket), role, listener: undefined, networkNamespace: ns.netns });
    }
  }
  return found;
}

function stripClassification(s: NetSocket | ClassifiedConnection): NetSocket {
  const { protocol, family, localAddress, localPort, remoteAddress, remotePort, state, uid, inode } = s;
  return { protocol, family, localAddress, localPort, remoteAddress, remotePort, state, uid, inode };
}

/** Reads each holding process once per collection (executable, effective uid) and names its user. */
class OwnerReader {
  private readonly byPid = new Map<number, SocketOwner | undefined>();
  gone = 0;

  constructor(
    private readonly procfs: string,
    private readonly users: UserDirectory,
    private readonly selfPids: ReadonlySet<number>,
    /** Whether each holder is checked to still hold the socket once its owner is read. */
    private readonly recheck: boolean,
  ) {}

  read(holders: readonly SocketHolder[], inode: number): SocketOwner[] {
    const result: SocketOwner[] = [];
    for (const holder of holders) {
      const owner = this.owner(holder.pid);
      if (!owner || result.some((o) => o.pid === holder.pid)) continue;
      if (this.recheck && !stillHolds(this.procfs, holder, inode)) {
        this.gone++;
        continue;
      }
      result.push(owner);
    }
    return result;
  }

  private owner(pid: number): SocketOwner | undefined {
    if (this.byPid.has(pid)) return this.byPid.get(pid);
    const read = readProcess(this.procfs, pid);
    let owner: SocketOwner | undefined;
    if (read.ok) {
      const { exe, euid } = read.process;
      owner = { pid, exe: exe.kind === 'path' ? exe.path : undefined, uid: euid, ...this.user(euid), self: this.selfPids.has(pid) };
    } else if (read.problem === 'gone') {
      this.gone++;
    }
    this.byPid.set(pid, owner);
    return owner;
  }

  private user(uid: number): { user: string; userClass: SocketOwner['userClass'] } {
    return { user: this.users.nameOf(uid), userClass: this.users.classOfUid(uid) };
  }
}

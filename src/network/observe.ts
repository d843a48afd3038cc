import { readNetTables, type NetProtocol, type NetSocket, type NetTablesRead } from '../procfs/net.js';
import { readProcess } from '../procfs/process-table.js';
import { stillHolds, type SocketHolder } from '../procfs/socket-owners.js';
import type { UserDirectory } from '../rootfs/users.js';
import { isListening, outgoingConnections, type DirectionOptions, type UnexplainedConnection } from './classify.js';
import type { NetworkSnapshot, ObservedConnection, ObservedSocket, Ownership, SocketOwner } from './snapshot.js';
import type { SocketOwnerIndex } from './socket-owner-index.js';

export interface ObserveOptions {
  readonly procfs: string;
  readonly index: SocketOwnerIndex;
  readonly users: UserDirectory;
  /**
   * Observe outgoing connections (only when the policy judges them); `needsOwner` says which need their
   * program for the outbound rules (those that may be accepted sessions always do).
   */
  readonly outgoing?: DirectionOptions & { readonly needsOwner: (socket: NetSocket) => boolean };
  /** The exporter's own pids (this process, the serving exporter), so its own listener is recognised. */
  readonly selfPids?: ReadonlySet<number>;
  /** How the tables are read (again, for some protocols, when a socket is not found): /proc/net by default; tests time races with it. */
  readonly readTables?: (protocols?: ReadonlySet<NetProtocol>) => NetTablesRead;
}

/**
 * Read the socket tables and find who holds each listener (and each outgoing connection that needs
 * it). Observation only: nothing here decides what is expected.
 */
export async function observeNetwork(options: ObserveOptions): Promise<NetworkSnapshot> {
  const { procfs, index } = options;
  const slicer = index.newSlicer();
  // Without outbound judgment only listeners matter, and the TCP tables can be read up to them.
  const readTables = options.readTables ?? ((protocols?: ReadonlySet<NetProtocol>) => readNetTables(procfs, { protocols, tcpListenersOnly: !options.outgoing }));
  const tables = readTables();
  let listeners: NetSocket[] = tables.sockets.filter(isListening);
  let connections = options.outgoing ? outgoingConnections(tables.sockets, listeners, options.outgoing) : [];
  const present = new Set<number>();
  for (const s of tables.sockets) if (s.inode !== 0) present.add(s.inode);

  // Judgment takes a connection whose ports look accepted as a session only if its program may listen there.
  const needsOwner = (s: UnexplainedConnection) => s.maybeAccepted || (options.outgoing?.needsOwner(s) ?? false);
  const lookup = await index.lookup(
    listeners.map((s) => s.inode),
    connections.filter(needsOwner).map((s) => s.inode),
    present,
    slicer,
  );

  // A socket no process holds may have closed after the table was read: look again before calling its owner unknown.
  let socketsGone = 0;
  if (lookup.notFound.size > 0 && lookup.scan) {
    const protocols = new Set([...listeners, ...connections].filter((s) => lookup.notFound.has(s.inode)).map((s) => s.protocol));
    const still = new Set(readTables(protocols).sockets.map((s) => s.inode));
    const gone = new Set([...lookup.notFound.keys()].filter((inode) => !still.has(inode)));
    if (gone.size > 0) {
      const open = (s: NetSocket) => !gone.has(s.inode);
      const before = listeners.length + connections.length;
      listeners = listeners.filter(open);
      connections = connections.filter(open);
      socketsGone = before - listeners.length - connections.length;
    }
  }

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

  return {
    listeners: listeners.map((s): ObservedSocket => ({ ...s, ownership: ownership(s, true) })),
    connections: connections.map((s): ObservedConnection => ({ ...s, ownership: ownership(s, needsOwner(s)) })),
    problems: {
      malformedLines: tables.malformedLines,
      socketsGone,
      processesGone: owners.gone + (lookup.scan?.gone ?? 0),
      fdDenied: lookup.scan?.denied ?? 0,
    },
    processesScanned: lookup.scan?.processes ?? 0,
  };
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

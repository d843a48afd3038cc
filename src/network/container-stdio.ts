import { networkNamespace } from '../procfs/namespaces.js';
import { netTableFiles, readNetTables, type NetSocket } from '../procfs/net.js';
import { readStdioSockets, type SocketFd } from '../procfs/socket-owners.js';

/**
 * Sockets on the standard streams of processes in containers with a network namespace of their own.
 * Their sockets are not in the exporter's /proc/net: they are listed only in /proc/PID/net of a
 * process in that namespace. So each container process's standard streams and network namespace
 * are read when it is first seen (four readlinks), again every `fullRescanMs` (a socket moved onto
 * fd 0 later, a dup2 without an exec), and at every collection while one of them is a socket; the
 * tables of a namespace are read, once per collection, only when one of its processes has a socket
 * as a standard stream. A host whose containers run what they ran before reads nothing.
 */

/** A process in a container; `key` is the same value while it is the same process running the same executable. */
export interface ContainerProcess {
  readonly pid: number;
  readonly key: object;
}

/** A process of a foreign network namespace with sockets of that namespace as standard streams. */
export interface ForeignStdioHolding {
  readonly pid: number;
  /** Which of 0, 1, 2, ascending. */
  readonly fds: readonly number[];
  readonly socket: NetSocket;
}

/** One network namespace other than the exporter's: every socket of its tables, and the holdings found. */
export interface ForeignNamespace {
  readonly netns: string;
  readonly sockets: readonly NetSocket[];
  readonly holdings: readonly ForeignStdioHolding[];
}

export interface ContainerStdioRead {
  readonly namespaces: readonly ForeignNamespace[];
  /** Processes whose standard streams were read in this collection. */
  readonly processesRead: number;
  /** Namespaces with a socket on a process's standard stream whose tables no process let us read (all exited). */
  readonly namespacesUnread: number;
}

interface Seen {
  readonly netns: string | undefined;
  readonly sockets: readonly SocketFd[];
}

export interface ContainerStdioOptions {
  readonly fullRescanMs: number;
  readonly now: () => number;
}

/** Processes read side by side (four readlinks each). */
const batch = 64;

export class ContainerStdioWatch {
  private seen = new WeakMap<object, Seen>();
  private nextFullAt = 0;
  private readonly options: ContainerStdioOptions;

  constructor(
    private readonly procfs: string,
    options: Partial<ContainerStdioOptions> = {},
  ) {
    this.options = { fullRescanMs: 5 * 60_000, now: Date.now, ...options };
  }

  /** The foreign namespaces where a container process has a socket on a standard stream; `hostNetns` is the exporter's own. */
  async observe(processes: readonly ContainerProcess[], hostNetns: string | undefined): Promise<ContainerStdioRead> {
    const now = this.options.now();
    const full = now >= this.nextFullAt;
    if (full) this.nextFullAt = now + this.options.fullRescanMs;
    const toRead = processes.filter((p) => {
      const seen = this.seen.get(p.key);
      return full || !seen || seen.sockets.length > 0;
    });
    for (let i = 0; i < toRead.length; i += batch) {
      await Promise.all(
        toRead.slice(i, i + batch).map(async (p) => {
          const known = full ? undefined : this.seen.get(p.key)?.netns;
          const [netns, read] = await Promise.all([known ?? networkNamespace(this.procfs, p.pid), readStdioSockets(this.procfs, p.pid)]);
          this.seen.set(p.key, { netns, sockets: read.ok ? read.sockets : [] });
        }),
      );
    }
    const byNetns = new Map<string, Array<{ pid: number; sockets: readonly SocketFd[] }>>();
    for (const p of processes) {
      const seen = this.seen.get(p.key);
      if (!seen || seen.sockets.length === 0 || seen.netns === undefined || seen.netns === hostNetns) continue;
      const list = byNetns.get(seen.netns) ?? [];
      list.push({ pid: p.pid, sockets: seen.sockets });
      byNetns.set(seen.netns, list);
    }
    const namespaces: ForeignNamespace[] = [];
    let namespacesUnread = 0;
    for (const [netns, holders] of byNetns) {
      const sockets = this.tablesOf(holders.map((h) => h.pid));
      if (!sockets) {
        namespacesUnread++;
        continue;
      }
      namespaces.push({ netns, sockets, holdings: holdingsOf(holders, sockets) });
    }
    return { namespaces, processesRead: toRead.length, namespacesUnread };
  }

  /** The namespace's tables through the first of its processes still running; undefined when none is. */
  private tablesOf(pids: readonly number[]): NetSocket[] | undefined {
    for (const pid of pids) {
      try {
        const tables = readNetTables(`${this.procfs}/${pid}`);
        // Every table missing: the process exited (a kernel without IPv6 misses two, never all).
        if (tables.missingTables.length < netTableFiles.length) return [...tables.sockets];
      } catch {
        // not ours to read, or exited meanwhile: the next one
      }
    }
    return undefined;
  }
}

/** The holdings of TCP and UDP sockets of the namespace's tables (a unix socket or a pipe is not one). */
export function holdingsOf(
  holders: ReadonlyArray<{ pid: number; sockets: readonly SocketFd[] }>,
  sockets: readonly NetSocket[],
): ForeignStdioHolding[] {
  const byInode = new Map<number, NetSocket>();
  for (const s of sockets) if (s.inode !== 0) byInode.set(s.inode, s);
  const holdings: Array<{ pid: number; fds: number[]; socket: NetSocket }> = [];
  for (const { pid, sockets: fds } of holders) {
    for (const { fd, inode } of fds) {
      const socket = byInode.get(inode);
      if (!socket) continue;
      const held = holdings.find((h) => h.pid === pid && h.socket.inode === inode);
      if (held) held.fds.push(fd);
      else holdings.push({ pid, fds: [fd], socket });
    }
  }
  for (const h of holdings) h.fds.sort((a, b) => a - b);
  return holdings;
}

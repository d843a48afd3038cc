import type { NetSocket } from '../procfs/net.js';
import type { TcpBytes, TcpInfoRead } from './tcp-info.js';

/** The finding a connection carries, for its traffic: a shell on it first, then an unexpected outbound one. */
export type FlaggedConnectionKind = 'shell_on_socket' | 'unexpected_outbound';
export const flaggedConnectionKinds: readonly FlaggedConnectionKind[] = ['shell_on_socket', 'unexpected_outbound'];

export interface FlaggedConnection {
  readonly socket: NetSocket;
  readonly kind: FlaggedConnectionKind;
}

/** Bytes carried since the previous measurement, by the kind of finding on the connection. */
export type TrafficDeltas = Record<FlaggedConnectionKind, { sent: number; received: number }>;

export interface TrafficMeasurement {
  readonly deltas: TrafficDeltas;
  /** TCP connections whose counters were read. */
  readonly measured: number;
  /** Why `ss` gave nothing, when it failed. */
  readonly problem?: string;
}

/**
 * The traffic of flagged connections, the iftop/nethogs view limited to what has a finding: each
 * measurement reads the kernel's byte counters of the flagged TCP connections and adds what each
 * carried since it was last read. A connection first seen flagged adds everything it carried so
 * far (it happened on that connection, before the collection that saw it); one that closed between
 * two collections loses what it carried since the last one; UDP has no such counters and is not
 * counted. `ss` runs only while there are flagged TCP connections.
 */
export class FlaggedTraffic {
  private last = new Map<number, TcpBytes>();

  constructor(private readonly read: (connections: readonly NetSocket[]) => Promise<TcpInfoRead>) {}

  async measure(flagged: readonly FlaggedConnection[]): Promise<TrafficMeasurement> {
    const deltas: TrafficDeltas = { shell_on_socket: { sent: 0, received: 0 }, unexpected_outbound: { sent: 0, received: 0 } };
    const byInode = new Map<number, FlaggedConnection>();
    // A connection with a shell on it and judged outbound counts once, under shell_on_socket.
    for (const f of flagged) {
      if (f.socket.protocol !== 'tcp' || f.socket.inode === 0) continue;
      const seen = byInode.get(f.socket.inode);
      if (!seen || (seen.kind !== 'shell_on_socket' && f.kind === 'shell_on_socket')) byInode.set(f.socket.inode, f);
    }
    if (byInode.size === 0) {
      this.last = new Map();
      return { deltas, measured: 0 };
    }
    const result = await this.read([...byInode.values()].map((f) => f.socket));
    if (!result.ok) return { deltas, measured: 0, problem: result.problem };
    const next = new Map<number, TcpBytes>();
    for (const [inode, f] of byInode) {
      const now = result.bytes.get(inode);
      if (!now) continue;
      const before = this.last.get(inode) ?? { sent: 0, received: 0 };
      deltas[f.kind].sent += Math.max(0, now.sent - before.sent);
      deltas[f.kind].received += Math.max(0, now.received - before.received);
      next.set(inode, now);
    }
    this.last = next;
    return { deltas, measured: next.size };
  }
}

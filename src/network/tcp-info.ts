import { execFile } from 'node:child_process';
import type { NetSocket } from '../procfs/net.js';

/**
 * Bytes a TCP connection carried, from the kernel's TCP info (`tcp_info`, RFC 4898's counters), as
 * `ss -ti` reads it over netlink: /proc/net/tcp has no byte counts, and Node cannot open a
 * sock_diag netlink socket, so `ss` (iproute2) is run, only while connections need it.
 */
export interface TcpBytes {
  /** Payload the peer acknowledged (`bytes_acked`, less the SYN): what was delivered, retransmissions not counted twice. */
  readonly sent: number;
  /** Payload received (`bytes_received`; a FIN received counts one byte). */
  readonly received: number;
}

const inodeField = /(?:^|\s)ino:(\d+)(?:\s|$)/;
const ackedField = /(?:^|\s)bytes_acked:(\d+)(?:\s|$)/;
const receivedField = /(?:^|\s)bytes_received:(\d+)(?:\s|$)/;

/** `ss -tinHeO` output (one line per socket) → bytes by socket inode. Lines without an inode are skipped. */
export function parseSsTcpInfo(text: string): Map<number, TcpBytes> {
  const bytes = new Map<number, TcpBytes>();
  for (const line of text.split('\n')) {
    const inode = Number(inodeField.exec(line)?.[1] ?? 0);
    if (!Number.isSafeInteger(inode) || inode === 0) continue;
    // A connection that has sent nothing has bytes_acked:1 (its SYN) or no field at all.
    const acked = Number(ackedField.exec(line)?.[1] ?? 0);
    const received = Number(receivedField.exec(line)?.[1] ?? 0);
    if (!Number.isSafeInteger(acked) || !Number.isSafeInteger(received)) continue;
    bytes.set(inode, { sent: Math.max(0, acked - 1), received });
  }
  return bytes;
}

/** Past this many connections one `ss` lists every TCP socket instead of a filter naming each. */
const maxFiltered = 64;

/** The `ss` filter for these connections: their local and remote ports (the inode then picks each out). */
export function ssFilter(connections: readonly NetSocket[]): string | undefined {
  if (connections.length === 0 || connections.length > maxFiltered) return undefined;
  const pairs = new Set(connections.map((c) => `( sport = :${c.localPort} and dport = :${c.remotePort} )`));
  return [...pairs].join(' or ');
}

export type TcpInfoRead =
  { readonly ok: true; readonly bytes: ReadonlyMap<number, TcpBytes> } | { readonly ok: false; readonly problem: string };

/** Run `ss` for these TCP connections (in the exporter's network namespace, as /proc/net is read). */
export function readTcpInfo(connections: readonly NetSocket[], timeoutMs = 5000): Promise<TcpInfoRead> {
  const filter = ssFilter(connections);
  const args = ['-tinHeO', ...(filter === undefined ? [] : [filter])];
  return new Promise((resolve) => {
    execFile('ss', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' }, (error, stdout, stderr) => {
      if (error) resolve({ ok: false, problem: `ss ${args.join(' ')}: ${stderr.trim() || error.message}` });
      else resolve({ ok: true, bytes: parseSsTcpInfo(stdout) });
    });
  });
}

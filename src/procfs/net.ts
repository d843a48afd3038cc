import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { problemOf } from './errors.js';

/**
 * The socket tables /proc/net/{tcp,tcp6,udp,udp6} (proc(5)): one line per socket with hex
 * addresses, the kernel state, the uid that created it and its inode. The inode is what ties a
 * socket to the processes holding it (/proc/PID/fd/N -> "socket:[inode]").
 */
export type NetProtocol = 'tcp' | 'udp';
export type IpFamily = 4 | 6;

export interface NetSocket {
  readonly protocol: NetProtocol;
  readonly family: IpFamily;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The kernel's TCP state number (include/net/tcp_states.h); UDP uses 1 (connected) and 7 (not connected). */
  readonly state: number;
  readonly uid: number;
  /** 0 for sockets no file refers to (TIME_WAIT, some kernel sockets). */
  readonly inode: number;
}

/** States from include/net/tcp_states.h that the collector tells apart. */
export const socketStates = {
  established: 0x01,
  synSent: 0x02,
  close: 0x07,
  listen: 0x0a,
} as const;

export interface NetTable {
  readonly sockets: readonly NetSocket[];
  /** Lines that do not have the documented shape: counted, skipped, never thrown. */
  readonly malformedLines: number;
}

export const netTableFiles: ReadonlyArray<{ readonly file: string; readonly protocol: NetProtocol; readonly family: IpFamily }> = [
  { file: 'tcp', protocol: 'tcp', family: 4 },
  { file: 'tcp6', protocol: 'tcp', family: 6 },
  { file: 'udp', protocol: 'udp', family: 4 },
  { file: 'udp6', protocol: 'udp', family: 6 },
];

// The kernel prints each 32-bit word of an address with %08X in host byte order.
const littleEndian = endianness() === 'LE';

/** Parse one /proc/net table. The first line is a header; every malformed line is counted and skipped. */
export function parseNetTable(text: string, protocol: NetProtocol, family: IpFamily): NetTable {
  const sockets: NetSocket[] = [];
  let malformedLines = 0;
  let start = text.indexOf('\n') + 1;
  if (start === 0) return { sockets, malformedLines: 0 };
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    const socket = parseLine(line, protocol, family);
    if (socket) sockets.push(socket);
    else malformedLines++;
  }
  return { sockets, malformedLines };
}

// sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ... (one pass; the rest of the line is not used)
const hexAddress = '([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})';
const lineShape = new RegExp(
  `^\\s*\\d+:\\s+${hexAddress}\\s+${hexAddress}\\s+([0-9A-Fa-f]{2})\\s+\\S+\\s+\\S+\\s+\\S+\\s+(\\d{1,10})\\s+-?\\d+\\s+(\\d{1,20})(?:\\s|$)`,
);

function parseLine(line: string, protocol: NetProtocol, family: IpFamily): NetSocket | undefined {
  const m = lineShape.exec(line);
  if (!m) return undefined;
  const width = family === 4 ? 8 : 32;
  if (m[1]!.length !== width || m[3]!.length !== width) return undefined;
  const inode = Number(m[7]);
  if (!Number.isSafeInteger(inode)) return undefined;
  return {
    protocol,
    family,
    localAddress: addressFromHex(m[1]!),
    localPort: parseInt(m[2]!, 16),
    remoteAddress: addressFromHex(m[3]!),
    remotePort: parseInt(m[4]!, 16),
    state: parseInt(m[5]!, 16),
    uid: Number(m[6]),
    inode,
  };
}

/** The bytes of the 32-bit words the kernel printed with %08X, in memory (network) order. */
function addressBytes(hex: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const word = parseInt(hex.slice(i, i + 8), 16);
    if (littleEndian) bytes.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
    else bytes.push(word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
  }
  return bytes;
}

function addressFromHex(hex: string): string {
  const bytes = addressBytes(hex);
  return bytes.length === 4 ? bytes.join('.') : formatIpv6(bytes);
}

/**
 * IPv6 text as inet_ntop(3) prints it (and so `ss`): lowercase, the longest run of two or more zero
 * groups as "::", and IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses with a
 * dotted tail.
 */
export function formatIpv6(bytes: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  const dottedTail = bestStart === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff));
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      parts.push(i === 0 ? ':' : '');
      i += bestLength - 1;
      if (i === 7) parts.push('');
      continue;
    }
    if (dottedTail && i === 6) {
      parts.push(bytes.slice(12, 16).join('.'));
      break;
    }
    parts.push(groups[i]!.toString(16));
  }
  return parts.join(':');
}

export interface NetTablesRead {
  readonly sockets: readonly NetSocket[];
  readonly malformedLines: number;
  /** Tables absent from this procfs (a kernel without IPv6): nothing to read, not an error. */
  readonly missingTables: readonly string[];
}

export interface ReadTablesOptions {
  readonly protocols?: ReadonlySet<NetProtocol>;
  /**
   * Stop reading the TCP tables at the first socket that is not listening. The kernel prints the
   * listening sockets first and then walks its whole established-connection hash (262,144 buckets on
   * a 24 GiB host), which is most of the cost of reading the file; when only listeners are needed,
   * most of that walk is skipped.
   */
  readonly tcpListenersOnly?: boolean;
}

/** Read the tables under `<procfs>/net` (the reader's network namespace, as node_exporter does). */
export function readNetTables(procfs: string, options: ReadTablesOptions = {}): NetTablesRead {
  const sockets: NetSocket[] = [];
  const missingTables: string[] = [];
  let malformedLines = 0;
  for (const { file, protocol, family } of netTableFiles) {
    if (options.protocols && !options.protocols.has(protocol)) continue;
    const path = `${procfs}/net/${file}`;
    let text: string;
    try {
      text = protocol === 'tcp' && options.tcpListenersOnly ? readListeningPrefix(path) : readFileSync(path, 'latin1');
    } catch (error) {
      if (problemOf(error) !== 'gone') throw error;
      missingTables.push(file);
      continue;
    }
    const table = parseNetTable(text, protocol, family);
    for (const socket of table.sockets) sockets.push(socket);
    malformedLines += table.malformedLines;
  }
  return { sockets, malformedLines, missingTables };
}

const chunk = Buffer.allocUnsafe(4096);
const stateField = /^\s*\d+:\s+\S+\s+\S+\s+(\S+)/;

/** The header and the leading LISTEN lines of a TCP table, read a page at a time. */
function readListeningPrefix(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let text = '';
    let checked = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) return text;
      text += chunk.toString('latin1', 0, n);
      // Look at each complete line after the header; the state is the fourth field.
      for (let end = text.indexOf('\n', checked); end !== -1; end = text.indexOf('\n', checked)) {
        const line = text.slice(checked, end);
        if (checked > 0 && stateField.exec(line)?.[1] !== '0A') return text.slice(0, checked);
        checked = end + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
}

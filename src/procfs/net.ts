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

function parseLine(line: string, protocol: NetProtocol, family: IpFamily): NetSocket | undefined {
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
  const fields = line.trim().split(/\s+/);
  if (fields.length < 10 || !/^\d+:$/.test(fields[0]!)) return undefined;
  const local = parseEndpoint(fields[1]!, family);
  const remote = parseEndpoint(fields[2]!, family);
  const state = hexNumber(fields[3]!, 2);
  const uid = decimal(fields[7]!);
  const inode = decimal(fields[9]!);
  if (!local || !remote || state === undefined || uid === undefined || inode === undefined) return undefined;
  return {
    protocol,
    family,
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
    state,
    uid,
    inode,
  };
}

function parseEndpoint(text: string, family: IpFamily): { address: string; port: number } | undefined {
  const colon = text.indexOf(':');
  const addressHex = text.slice(0, colon);
  const port = hexNumber(text.slice(colon + 1), 4);
  if (colon === -1 || port === undefined) return undefined;
  const address = family === 4 ? ipv4FromHex(addressHex) : ipv6FromHex(addressHex);
  return address === undefined ? undefined : { address, port };
}

function hexNumber(text: string, maxDigits: number): number | undefined {
  if (text.length === 0 || text.length > maxDigits || !/^[0-9A-Fa-f]+$/.test(text)) return undefined;
  return parseInt(text, 16);
}

function decimal(text: string): number | undefined {
  if (!/^\d{1,20}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The four bytes of a %08X word as they lie in memory (network order for addresses). */
function wordBytes(hex: string): number[] | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return littleEndian ? bytes.reverse() : bytes;
}

function ipv4FromHex(hex: string): string | undefined {
  if (hex.length !== 8) return undefined;
  return wordBytes(hex)?.join('.');
}

function ipv6FromHex(hex: string): string | undefined {
  if (hex.length !== 32) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) {
    const word = wordBytes(hex.slice(i, i + 8));
    if (!word) return undefined;
    bytes.push(...word);
  }
  return formatIpv6(bytes);
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
  for (let i = 0; i < 8; ) {
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
        if (checked > 0 && line.trim().split(/\s+/)[3] !== '0A') return text.slice(0, checked);
        checked = end + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
}

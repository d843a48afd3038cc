import { readdirSync, readlinkSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { problemOf, type ProcReadProblem } from './errors.js';

/**
 * Which process holds a socket: /proc/PID/fd/N is a link to "socket:[inode]", the inode that
 * /proc/net/{tcp,udp}* print for the socket. This is how `ss -p` and `lsof -i` find owners.
 */
export interface SocketHolder {
  readonly pid: number;
  readonly fd: number;
}

export interface SocketFd {
  readonly fd: number;
  readonly inode: number;
}

const socketPrefix = 'socket:[';

/** "socket:[12345]" → 12345; anything else (files, pipes, anon inodes) → undefined. */
export function parseSocketLink(target: string): number | undefined {
  if (!target.startsWith(socketPrefix) || !target.endsWith(']')) return undefined;
  const digits = target.slice(socketPrefix.length, -1);
  if (!/^\d{1,20}$/.test(digits)) return undefined;
  const inode = Number(digits);
  return Number.isSafeInteger(inode) ? inode : undefined;
}

export type SocketFdsRead =
  { readonly ok: true; readonly sockets: readonly SocketFd[] } | { readonly ok: false; readonly problem: ProcReadProblem };

/**
 * The socket file descriptors of one process. A process that exits meanwhile is `gone`; one whose
 * descriptors we may not read (another user's, without root; or a process that forbids it) is `denied`.
 * A descriptor closed between the listing and the link read is simply not there.
 */
export function readSocketFds(procfs: string, pid: number): SocketFdsRead {
  const dir = `${procfs}/${pid}/fd/`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    return { ok: false, problem: problemOf(error) ?? 'malformed' };
  }
  const sockets: SocketFd[] = [];
  for (const name of names) {
    let target: string;
    try {
      target = readlinkSync(dir + name);
    } catch (error) {
      const problem = problemOf(error);
      if (problem === 'gone') continue;
      return { ok: false, problem: problem ?? 'malformed' };
    }
    // Cheap first-character test: most descriptors are files and pipes.
    if (target.charCodeAt(0) !== 115 /* s */) continue;
    const inode = parseSocketLink(target);
    if (inode !== undefined) sockets.push({ fd: Number(name), inode });
  }
  return { ok: true, sockets };
}

/** Whether `holder` still has socket `inode` open at the same descriptor: one readlink. */
export function stillHolds(procfs: string, holder: SocketHolder, inode: number): boolean {
  try {
    return readlinkSync(`${procfs}/${holder.pid}/fd/${holder.fd}`) === `${socketPrefix}${inode}]`;
  } catch {
    return false;
  }
}

/** The standard streams: input, output, error. */
const stdioFds = [0, 1, 2] as const;

/**
 * The sockets among a process's standard input, output and error (fd 0, 1, 2): three readlinks, read
 * side by side. A closed descriptor, or a process that exits meanwhile, has none; `denied` when the
 * descriptors may not be read (another user's process, without CAP_SYS_PTRACE).
 */
export async function readStdioSockets(procfs: string, pid: number): Promise<SocketFdsRead> {
  const dir = `${procfs}/${pid}/fd/`;
  const links = await Promise.all(
    stdioFds.map((fd) =>
      readlink(dir + fd).then(
        (target) => ({ fd, target, problem: undefined }),
        (error: unknown) => ({ fd, target: undefined, problem: problemOf(error) ?? 'malformed' }),
      ),
    ),
  );
  const denied = links.find((l) => l.problem === 'denied' || l.problem === 'malformed');
  if (denied?.problem) return { ok: false, problem: denied.problem };
  const sockets: SocketFd[] = [];
  for (const { fd, target } of links) {
    const inode = target === undefined ? undefined : parseSocketLink(target);
    if (inode !== undefined) sockets.push({ fd, inode });
  }
  return { ok: true, sockets };
}

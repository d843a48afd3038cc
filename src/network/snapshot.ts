import type { NetSocket } from '../procfs/net.js';
import type { UserClass } from '../rootfs/users.js';

/** A socket as /proc/net lists it: what the observed sockets below extend. */
export type { NetSocket };

/**
 * What the network collector observed, as plain data: the input of the judgment functions, which
 * never touch the host. Tests build these by hand.
 */

/** A process holding a socket, like one entry of `ss -p`'s users:(...). */
export interface SocketOwner {
  readonly pid: number;
  /** The executable (/proc/PID/exe); undefined when it cannot be read. */
  readonly exe: string | undefined;
  /** Effective uid: the privileges the process holds the socket with. */
  readonly uid: number;
  /** User name for subjects and rule matching; the uid as text when the host does not name it. */
  readonly user: string;
  readonly userClass: UserClass;
  /** The exporter itself (its own listening port). */
  readonly self: boolean;
}

export type Ownership =
  | { readonly kind: 'known'; readonly owners: readonly SocketOwner[] }
  /** No file refers to the socket (inode 0): the kernel's own, e.g. NFS or WireGuard. */
  | { readonly kind: 'kernel' }
  /** No process we could read holds it: `denied` when some descriptor tables were closed to us. */
  | { readonly kind: 'unknown'; readonly reason: 'denied' | 'not_found' }
  /** The owner was not needed (a connection a rule allows whatever the program). */
  | { readonly kind: 'not_looked_up' };

export interface ObservedSocket extends NetSocket {
  readonly ownership: Ownership;
}

/** A connection no listener explains, with its owner (see `UnexplainedConnection` in classify.ts). */
export interface ObservedConnection extends ObservedSocket {
  /** Its ports say it may be a session accepted by a server whose listener closed: judgment decides by its owner. */
  readonly maybeAccepted: boolean;
}

/** What a socket on a standard stream is to its process. */
export type StdioSocketRole =
  /** A listening TCP socket or a bound UDP one (an inetd `wait` service gets its super-server's). */
  | 'listening'
  /** A connection a listener explains: accepted here. */
  | 'incoming'
  /** A connection opened from here (or whose listener closed before it was seen). */
  | 'outgoing';

/** A process whose standard input, output or error (fd 0, 1, 2) is a TCP or UDP socket. */
export interface SocketOnStdio {
  readonly owner: SocketOwner;
  /** Which of 0, 1, 2, ascending. */
  readonly fds: readonly number[];
  readonly socket: NetSocket;
  readonly role: StdioSocketRole;
  /**
   * Who holds the listener the socket belongs to (the socket itself when listening; the listener on
   * its protocol, port and address when incoming), or undefined when no listener is open for it.
   */
  readonly listener: Ownership | undefined;
  /** The network namespace the socket is in, when not the exporter's (a container's own network). */
  readonly networkNamespace?: string;
}

export interface NetworkReadProblems {
  /** /proc/net lines without the documented shape. */
  readonly malformedLines: number;
  /** Sockets that closed between the table read and the descriptor scan. */
  readonly socketsGone: number;
  /** Processes that exited while their descriptors or their details were read. */
  readonly processesGone: number;
  /** Processes whose descriptor tables were closed to us in this collection's scan (or standard streams read on their own). */
  readonly fdDenied: number;
}

export interface NetworkSnapshot {
  /** TCP sockets in LISTEN and unconnected bound UDP sockets (`ss -tuln`). */
  readonly listeners: readonly ObservedSocket[];
  /**
   * TCP connections (established or being established) and connected UDP sockets that no listener
   * explains: outgoing, unless judgment takes one marked `maybeAccepted` as a closed server's session.
   */
  readonly connections: readonly ObservedConnection[];
  /** Processes with a TCP or UDP socket as a standard stream (empty when not looked for). */
  readonly stdio: readonly SocketOnStdio[];
  readonly problems: NetworkReadProblems;
  /** Processes read in a descriptor scan during this collection (0 when every socket was already mapped). */
  readonly processesScanned: number;
}

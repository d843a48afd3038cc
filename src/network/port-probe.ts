import { constants } from 'node:os';
import type { IpFamily, NetProtocol } from '../procfs/net.js';

/**
 * Whether a port can be bound right now, found by binding it and closing at once, without ever
 * listening: a TCP socket that is bound but not listening accepts no connection and is shown in no
 * table, so real services never see it; a UDP socket is bound without SO_REUSEADDR, so it can never
 * share a port (and a datagram) with a real one.
 *
 * Node's public `net` API cannot bind a TCP socket without listening (`server.listen` does both, and
 * `socket.connect({ localPort })` sends a SYN), so this uses the handles `net` and `dgram` are built
 * on: process.binding('tcp_wrap') and ('udp_wrap'). libuv's TCP bind reports EADDRINUSE late (at
 * listen or connect), but getsockname() returns that delayed error, so bind + getsockname + close
 * answers without listen(). The handles are checked at load; when a Node.js release changes them
 * the sweep reports itself unavailable instead of guessing.
 */
export type ProbeResult = 'free' | 'in_use' | 'denied' | 'unsupported';

export interface PortProbe {
  probe(protocol: NetProtocol, family: IpFamily, port: number): ProbeResult;
}

interface TcpHandle {
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  getsockname(out: Record<string, unknown>): number;
  close(): void;
}

interface UdpHandle {
  bind(address: string, port: number, flags: number): number;
  bind6(address: string, port: number, flags: number): number;
  close(): void;
}

interface Handles {
  readonly Tcp: new (type: number) => TcpHandle;
  readonly tcpSocketType: number;
  readonly tcpIpv6Only: number;
  readonly Udp: new () => UdpHandle;
}

// uv.h: UV_UDP_IPV6ONLY. Not exported by udp_wrap.
const udpIpv6Only = 1;

function loadHandles(): Handles {
  const binding = (process as unknown as { binding?: (name: string) => unknown }).binding;
  if (typeof binding !== 'function') throw new Error('process.binding is not available');
  const tcp = binding('tcp_wrap') as { TCP?: unknown; constants?: { SOCKET?: unknown; UV_TCP_IPV6ONLY?: unknown } } | undefined;
  const udp = binding('udp_wrap') as { UDP?: unknown } | undefined;
  const Tcp = tcp?.TCP;
  const Udp = udp?.UDP;
  const socketType = tcp?.constants?.SOCKET;
  const ipv6Only = tcp?.constants?.UV_TCP_IPV6ONLY;
  if (typeof Tcp !== 'function' || typeof Udp !== 'function' || typeof socketType !== 'number' || typeof ipv6Only !== 'number') {
    throw new Error(`tcp_wrap/udp_wrap bindings of Node.js ${process.version} do not have the expected shape`);
  }
  for (const method of ['bind', 'bind6', 'getsockname', 'close']) {
    if (typeof (Tcp.prototype as Record<string, unknown>)[method] !== 'function') throw new Error(`tcp_wrap TCP has no ${method}()`);
  }
  for (const method of ['bind', 'bind6', 'close']) {
    if (typeof (Udp.prototype as Record<string, unknown>)[method] !== 'function') throw new Error(`udp_wrap UDP has no ${method}()`);
  }
  return { Tcp: Tcp as Handles['Tcp'], tcpSocketType: socketType, tcpIpv6Only: ipv6Only, Udp: Udp as Handles['Udp'] };
}

const { EADDRINUSE, EACCES, EPERM, EAFNOSUPPORT, EADDRNOTAVAIL } = constants.errno;

function resultOf(status: number): ProbeResult {
  if (status === 0) return 'free';
  if (status === -EADDRINUSE) return 'in_use';
  if (status === -EACCES || status === -EPERM) return 'denied';
  if (status === -EAFNOSUPPORT || status === -EADDRNOTAVAIL) return 'unsupported';
  throw new Error(`bind failed with errno ${-status}`);
}

/** Binds to the wildcard address of each family (IPv6 with IPV6_V6ONLY, so each family answers for itself). */
export function createBindProbe(): PortProbe {
  const h = loadHandles();
  return {
    probe(protocol, family, port) {
      if (protocol === 'tcp') {
        const socket = new h.Tcp(h.tcpSocketType);
        try {
          const bound = family === 4 ? socket.bind('0.0.0.0', port) : socket.bind6('::', port, h.tcpIpv6Only);
          return resultOf(bound !== 0 ? bound : socket.getsockname({}));
        } finally {
          socket.close();
        }
      }
      const socket = new h.Udp();
      try {
        return resultOf(family === 4 ? socket.bind('0.0.0.0', port, 0) : socket.bind6('::', port, udpIpv6Only));
      } finally {
        socket.close();
      }
    },
  };
}

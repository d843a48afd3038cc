import type { OutboundPolicy } from '../config/sections/outbound.js';
import type { ShellOnSocketPolicy } from '../config/sections/shell-on-socket.js';
import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { compileGlob, type PathMatcher } from '../match/glob.js';
import { inPortRange, parsePortRange, type PortRange } from '../match/port-range.js';
import { compiledPerPolicy } from './compiled-per-policy.js';
import { containerNaming, type ContainerOf } from './container-naming.js';
import { destinationClass } from './destination-class.js';
import { endpoint } from './judge-listeners.js';
import { networkKinds } from './kinds.js';
import { compileOwnerConstraint, ownerMatches, type OwnerConstraint } from './owner-match.js';
import { programClassOf, type ProgramClass, type ProgramLists } from './program-class.js';
import type { SocketOnStdio } from './snapshot.js';

/**
 * Judgment of processes whose standard input, output or error is a TCP or UDP socket: pure
 * functions of what was observed and the policy. A shell reading commands from a socket is a
 * reverse shell (it connected out) or a bind shell (it was handed an accepted connection), and
 * the exec'd program inherits the descriptors whatever it is, so any program is judged; shells,
 * interpreters and network tools are critical, anything else a warning (an inetd-style service
 * nobody declared, or a pager or editor run over a socket to get a shell from it).
 *
 * Expected on a socket: a process on a socket that a super-server listens on (inetd hands each
 * connection it accepts to its service as stdin and stdout, systemd does so for `Accept=yes`
 * sockets, and an inetd `wait` UDP service gets the bound socket itself); and the programs the
 * policy's `allow` rules name. The super-server is told by who holds the listener, never by the
 * parent: systemd is every service's parent, a reverse shell in a unit's ExecStart included.
 */
export interface ShellOnSocket {
  readonly stdio: SocketOnStdio;
  readonly programClass: ProgramClass;
}

interface CompiledRule {
  readonly owner: OwnerConstraint;
  readonly port: PortRange | undefined;
  readonly protocol: 'tcp' | 'udp' | 'any';
}

const compile = compiledPerPolicy(
  (policy: ShellOnSocketPolicy): { superServers: readonly PathMatcher[]; rules: readonly CompiledRule[] } => ({
    superServers: policy.super_servers.map(compileGlob),
    rules: policy.allow.map((r) => ({
      owner: compileOwnerConstraint(r.exe, r.user),
      port: r.port === undefined ? undefined : parsePortRange(r.port),
      protocol: r.protocol,
    })),
  }),
);

/** The port that names the service: the remote one for a connection opened from here, the local one otherwise. */
function servicePort(s: SocketOnStdio): number {
  return s.role === 'outgoing' ? s.socket.remotePort : s.socket.localPort;
}

function acceptedBySuperServer(s: SocketOnStdio, superServers: readonly PathMatcher[]): boolean {
  const listener = s.listener;
  // A connection opened from here was accepted by no one here, whoever started the process.
  if (s.role === 'outgoing' || listener?.kind !== 'known') return false;
  return listener.owners.some((o) => o.pid !== s.owner.pid && o.exe !== undefined && superServers.some((m) => m(o.exe!)));
}

function allowedByRule(s: SocketOnStdio, rules: readonly CompiledRule[]): boolean {
  return rules.some(
    (r) =>
      (r.protocol === 'any' || r.protocol === s.socket.protocol) &&
      (r.port === undefined || inPortRange(r.port, servicePort(s))) &&
      ownerMatches(r.owner, { kind: 'known', owners: [s.owner] }) === 'yes',
  );
}

export function judgeShellOnSocket(stdio: readonly SocketOnStdio[], policy: ShellOnSocketPolicy, programs: ProgramLists): ShellOnSocket[] {
  if (!policy.enabled) return [];
  const { superServers, rules } = compile(policy);
  const found: ShellOnSocket[] = [];
  for (const s of stdio) {
    if (s.owner.self || acceptedBySuperServer(s, superServers) || allowedByRule(s, rules)) continue;
    found.push({ stdio: s, programClass: programClassOf(s.owner.exe, programs) });
  }
  return found;
}

const streamNames = ['input', 'output', 'error'] as const;

function streams(fds: readonly number[]): string {
  const names = fds.map((fd) => streamNames[fd] ?? `fd ${fd}`);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

/** The remote address's class, or "none" for a listening socket, which has no peer. */
export function remoteClassOf(s: SocketOnStdio, outbound: OutboundPolicy): string {
  return s.role === 'listening' ? 'none' : destinationClass(s.socket.remoteAddress, outbound);
}

const roleText = {
  outgoing: (s: SocketOnStdio) =>
    `a ${s.socket.protocol} connection it opened to ${endpoint(s.socket.remoteAddress, s.socket.remotePort)}: a reverse shell`,
  incoming: (s: SocketOnStdio) =>
    `a ${s.socket.protocol} connection from ${endpoint(s.socket.remoteAddress, s.socket.remotePort)} accepted on port ${s.socket.localPort}, which no super-server listens on: a bind shell`,
  listening: (s: SocketOnStdio) => `a ${s.socket.protocol} socket listening on port ${s.socket.localPort}, which no super-server holds`,
} as const;

/**
 * One finding per program, user, socket end and container: a shell with fds 0, 1 and 2 on one
 * connection is one finding. A process in a container names it (`containerOf`), in the subject and
 * the message, as the processes collector's container findings do.
 */
export function shellOnSocketFindings(found: readonly ShellOnSocket[], outbound: OutboundPolicy, containerOf?: ContainerOf): Finding[] {
  const findings = new Map<string, Finding>();
  for (const { stdio: s, programClass } of found) {
    const exe = s.owner.exe ?? 'unknown';
    const subject = {
      exe,
      user: s.owner.user,
      program_class: programClass,
      protocol: s.socket.protocol,
      direction: s.role,
      remote_class: remoteClassOf(s, outbound),
      port: servicePort(s),
      remote_address: s.role === 'listening' ? '' : s.socket.remoteAddress,
    };
    const container = containerNaming([s.owner.pid], containerOf);
    Object.assign(subject, container.subject);
    const key = JSON.stringify(subject);
    if (findings.has(key)) continue;
    const where = s.networkNamespace === undefined ? '' : ` (in network namespace ${s.networkNamespace})`;
    const message = `${exe} (pid ${s.owner.pid}${container.phrase}) has its standard ${streams(s.fds)} on ${roleText[s.role](s)}${where}`;
    findings.set(key, finding(networkKinds.shell_on_socket, subject, message, programClass === 'other' ? 'warning' : 'critical'));
  }
  return [...findings.values()];
}

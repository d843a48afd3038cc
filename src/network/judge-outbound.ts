import type { ListenersPolicy } from '../config/sections/listeners.js';
import type { OutboundPolicy, OutboundRule } from '../config/sections/outbound.js';
import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { compileCidr, type IpMatcher } from '../match/cidr.js';
import { parseIpOnce } from './classify.js';
import { inPortRange, parsePortRange, type PortRange } from '../match/port-range.js';
import { allowedToListen, endpoint, type ListenerBaseline } from './judge-listeners.js';
import { compiledPerPolicy } from './compiled-per-policy.js';
import { containerNaming, type ContainerOf } from './container-naming.js';
import {
  compileOwnerConstraint,
  constrainsOwner,
  ownerExeText,
  ownerMatches,
  ownerPidsText,
  ownerUserText,
  type OwnerConstraint,
} from './owner-match.js';
import { networkKinds } from './kinds.js';
import { destinationClass } from './destination-class.js';
import { outboundKey, type OutboundBaseline } from './outbound-baseline.js';
import { programClassOf, type ProgramLists } from './program-class.js';
import type { NetSocket, ObservedConnection, ObservedSocket, SocketOwner } from './snapshot.js';

/**
 * Judgment of outgoing connections: pure functions of observed sockets, the policy, the baseline
 * and the processes the processes collector flagged. First which connections no listener explains
 * are outgoing (`judgeDirection`), then whether each is a finding (`judgeOutbound`).
 */
interface CompiledRule {
  readonly protocol: OutboundRule['protocol'];
  readonly destinations: readonly IpMatcher[] | undefined;
  readonly ports: readonly PortRange[] | undefined;
  readonly owner: OwnerConstraint;
}

const compileRules = compiledPerPolicy((policy: OutboundPolicy): readonly CompiledRule[] =>
  policy.allow.map((r) => ({
    protocol: r.protocol,
    destinations: r.cidr === undefined ? undefined : (typeof r.cidr === 'string' ? [r.cidr] : r.cidr).map(compileCidr),
    ports: r.ports?.map(parsePortRange),
    owner: compileOwnerConstraint(r.exe, r.user),
  })),
);

function destinationMatches(rule: CompiledRule, socket: NetSocket): boolean {
  if (rule.protocol !== 'any' && rule.protocol !== socket.protocol) return false;
  if (rule.ports && !rule.ports.some((range) => inPortRange(range, socket.remotePort))) return false;
  if (!rule.destinations) return true;
  const ip = parseIpOnce(socket.remoteAddress);
  return ip !== undefined && rule.destinations.some((m) => m(ip));
}

export interface Direction {
  /** Connections opened from here, as far as the host tells: judged against the outbound rules. */
  readonly outgoing: readonly ObservedConnection[];
  /** Sessions of servers the policy or baseline expects on their port, whose listener has closed: not judged. */
  readonly presumedAccepted: readonly ObservedConnection[];
}

/**
 * Which connections no listener explains were accepted rather than opened here. Ports alone
 * (`maybeAccepted`) cannot say: an implant that binds a fixed port such as 8080 before calling its
 * C2 on port 50000, or a one-shot bind shell that closed its listener between two collections, has
 * the ports of a session. So a connection is presumed accepted only when its ports say so and its
 * program would be expected listening on its local port and address (the `listeners` rules or the
 * learned listeners): a restarted or draining server's sessions, without a finding; everything else
 * is judged outgoing, a bind shell's session included, on the first collection that sees it.
 *
 * An owner that cannot be found (an exporter without the capabilities to read other users'
 * descriptors, a process exiting as it is read) is presumed a server only where the port is allowed
 * for any program: where the rule or baseline names one, the connection is judged outgoing, as the
 * same unknown owner on a listener is reported. Unknown owners are rare where the exporter runs as
 * deployed (with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH), so detection costs no common false alarm.
 */
export function judgeDirection(
  connections: readonly ObservedConnection[],
  listeners: ListenersPolicy,
  baseline: ListenerBaseline | undefined,
): Direction {
  const outgoing: ObservedConnection[] = [];
  const presumedAccepted: ObservedConnection[] = [];
  for (const c of connections) (c.maybeAccepted && allowedToListen(c, listeners, baseline) ? presumedAccepted : outgoing).push(c);
  return { outgoing, presumedAccepted };
}

/** Whether the verdict on this connection depends on its program: if not, the owner need not be looked up. */
export function outboundNeedsOwner(policy: OutboundPolicy, socket: NetSocket): boolean {
  return !compileRules(policy).some((r) => !constrainsOwner(r.owner) && destinationMatches(r, socket));
}

/** Why an outgoing connection is a finding. */
export type OutboundReason =
  /** `judge: all`, and no rule allows it. */
  | 'not_allowed'
  /** Its process has a finding of the processes collector (unknown, in a writable place, deleted...). */
  | 'flagged_process'
  /** A shell, interpreter or network tool to a destination class and port the baseline did not see it use. */
  | 'new_destination';

export const outboundReasons: readonly OutboundReason[] = ['not_allowed', 'flagged_process', 'new_destination'];

export interface UnexpectedOutbound {
  readonly connection: ObservedSocket;
  readonly reason: OutboundReason;
  /** The destination class of its remote address (destination-class.ts). */
  readonly remoteClass: string;
}

/** A process the processes collector reports, as the network judgment needs it. */
export interface FlaggedProcess {
  readonly exe: string;
  /** Its finding kinds, most severe first. */
  readonly kinds: readonly string[];
}

/** What outgoing connections are judged by, besides the rules. */
export interface OutboundJudgment {
  readonly policy: OutboundPolicy;
  readonly programs: ProgramLists;
  /** Processes with a finding at the processes collector's last collection, by pid. */
  readonly flagged: ReadonlyMap<number, FlaggedProcess>;
  /** The destinations the baseline saw shells, interpreters and network tools use; undefined judges them all new. */
  readonly baseline: OutboundBaseline | undefined;
}

function isFlagged(owner: SocketOwner, flagged: ReadonlyMap<number, FlaggedProcess>): boolean {
  const f = flagged.get(owner.pid);
  // The executable proves it is the same process and not a pid reused since that collection.
  return f !== undefined && f.exe === owner.exe;
}

/** Whether a shell, interpreter or network tool among the owners calls a destination its baseline entries lack. */
function newDestination(c: ObservedSocket, remoteClass: string, ctx: OutboundJudgment): boolean {
  if (c.ownership.kind !== 'known') return false;
  return c.ownership.owners.some(
    (o) =>
      o.exe !== undefined &&
      programClassOf(o.exe, ctx.programs) !== 'other' &&
      !ctx.baseline?.destinations.has(outboundKey({ exe: o.exe, protocol: c.protocol, class: remoteClass, port: c.remotePort })),
  );
}

/**
 * The outgoing connections that are findings, and why. A connection an `allow` rule matches (its
 * destination, and its program when the rule names one) never is, nor one of the exporter's own.
 * With `judge: all` every other one is; with `judge: unusual` only those of a flagged process and
 * those of a shell, interpreter or network tool to a new destination. A baseline that predates
 * the learning of destinations (`learned` false) judges none new: see outbound-baseline.ts.
 */
export function judgeOutbound(connections: readonly ObservedSocket[], ctx: OutboundJudgment): UnexpectedOutbound[] {
  const { policy } = ctx;
  const rules = compileRules(policy);
  const unexpected: UnexpectedOutbound[] = [];
  for (const c of connections) {
    if (c.ownership.kind === 'known' && c.ownership.owners.every((o) => o.self)) continue;
    if (rules.some((r) => destinationMatches(r, c) && ownerMatches(r.owner, c.ownership) === 'yes')) continue;
    const remoteClass = destinationClass(c.remoteAddress, policy);
    const reason = reasonFor(c, remoteClass, ctx);
    if (reason) unexpected.push({ connection: c, reason, remoteClass });
  }
  return unexpected;
}

function reasonFor(c: ObservedSocket, remoteClass: string, ctx: OutboundJudgment): OutboundReason | undefined {
  const { policy } = ctx;
  if (policy.judge === 'all') return 'not_allowed';
  if (policy.flagged_processes && c.ownership.kind === 'known' && c.ownership.owners.some((o) => isFlagged(o, ctx.flagged)))
    return 'flagged_process';
  if (policy.new_destinations && (ctx.baseline?.learned ?? true) && newDestination(c, remoteClass, ctx)) return 'new_destination';
  return undefined;
}

const reasonText: Record<OutboundReason, string> = {
  not_allowed: 'which no outbound rule allows',
  flagged_process: 'and the process has a finding of its own',
  new_destination: 'a destination the baseline never saw it use',
};

/**
 * One finding per program, destination and container: ten connections of one process to one address
 * are one finding. A process in a container names it (`containerOf`) in the subject and the message.
 */
export function outboundFindings(unexpected: readonly UnexpectedOutbound[], containerOf?: ContainerOf): Finding[] {
  const findings = new Map<string, Finding>();
  for (const { connection: c, reason, remoteClass } of unexpected) {
    const exe = ownerExeText(c.ownership);
    const subject = {
      protocol: c.protocol,
      exe,
      user: ownerUserText(c.ownership),
      reason,
      remote_class: remoteClass,
      remote_address: c.remoteAddress,
      remote_port: c.remotePort,
    };
    const container = containerNaming(c.ownership.kind === 'known' ? c.ownership.owners.map((o) => o.pid) : [], containerOf);
    Object.assign(subject, container.subject);
    const key = JSON.stringify(subject);
    if (findings.has(key)) continue;
    const message = `${exe} (pid ${ownerPidsText(c.ownership)}${container.phrase}) is connected to ${c.protocol} ${endpoint(c.remoteAddress, c.remotePort)} (${remoteClass}), ${reasonText[reason]}`;
    findings.set(key, finding(networkKinds.unexpected_outbound, subject, message));
  }
  return [...findings.values()];
}

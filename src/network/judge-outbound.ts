import type { ListenersPolicy } from '../config/sections/listeners.js';
import type { OutboundPolicy, OutboundRule } from '../config/sections/outbound.js';
import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { compileCidr, type IpMatcher } from '../match/cidr.js';
import { parseIpOnce } from './classify.js';
import { inPortRange, parsePortRange, type PortRange } from '../match/port-range.js';
import { allowedToListen, endpoint, type ListenerBaseline } from './judge-listeners.js';
import { compiledPerPolicy } from './compiled-per-policy.js';
import { compileOwnerConstraint, constrainsOwner, ownerExeText, ownerMatches, ownerPidsText, ownerUserText, type OwnerConstraint } from './owner-match.js';
import { networkKinds } from './kinds.js';
import type { NetSocket, ObservedConnection, ObservedSocket } from './snapshot.js';

/**
 * Judgment of outgoing connections against `outbound.allow`: pure functions of observed sockets
 * and the policy. First which connections no listener explains are outgoing (`judgeDirection`),
 * then whether each is allowed: when any rule matches all of its fields.
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
export function judgeDirection(connections: readonly ObservedConnection[], listeners: ListenersPolicy, baseline: ListenerBaseline | undefined): Direction {
  const outgoing: ObservedConnection[] = [];
  const presumedAccepted: ObservedConnection[] = [];
  for (const c of connections) (c.maybeAccepted && allowedToListen(c, listeners, baseline) ? presumedAccepted : outgoing).push(c);
  return { outgoing, presumedAccepted };
}

/** Whether the verdict on this connection depends on its program: if not, the owner need not be looked up. */
export function outboundNeedsOwner(policy: OutboundPolicy, socket: NetSocket): boolean {
  return !compileRules(policy).some((r) => !constrainsOwner(r.owner) && destinationMatches(r, socket));
}

export function judgeOutbound(connections: readonly ObservedSocket[], policy: OutboundPolicy): ObservedSocket[] {
  const rules = compileRules(policy);
  return connections.filter((c) => {
    if (c.ownership.kind === 'known' && c.ownership.owners.every((o) => o.self)) return false;
    return !rules.some((r) => destinationMatches(r, c) && ownerMatches(r.owner, c.ownership) === 'yes');
  });
}

/** One finding per program and destination: ten connections of one process to one address are one finding. */
export function outboundFindings(unexpected: readonly ObservedSocket[]): Finding[] {
  const findings = new Map<string, Finding>();
  for (const c of unexpected) {
    const exe = ownerExeText(c.ownership);
    const subject = { protocol: c.protocol, exe, user: ownerUserText(c.ownership), remote_address: c.remoteAddress, remote_port: c.remotePort };
    const key = JSON.stringify(subject);
    if (findings.has(key)) continue;
    const message = `${exe} (pid ${ownerPidsText(c.ownership)}) is connected to ${c.protocol} ${endpoint(c.remoteAddress, c.remotePort)}, which no outbound rule allows`;
    findings.set(key, finding(networkKinds.unexpected_outbound, subject, message));
  }
  return [...findings.values()];
}

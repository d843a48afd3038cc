import type { OutboundPolicy, OutboundRule } from '../config/sections/outbound.js';
import type { Finding } from '../findings/finding.js';
import { compileCidr, type IpMatcher } from '../policy/cidr.js';
import { parseIpOnce } from './classify.js';
import { inPortRange, parsePortRange, type PortRange } from '../policy/port-range.js';
import type { NetSocket } from '../procfs/net.js';
import { endpoint } from './listener-judgment.js';
import { compiledPerPolicy } from './compiled-per-policy.js';
import { compileOwnerConstraint, constrainsOwner, ownerExeText, ownerMatches, ownerPidsText, ownerUserText, type OwnerConstraint } from './owner-match.js';
import type { ObservedSocket } from './snapshot.js';

/**
 * Judgment of outgoing connections against `outbound.allow`: pure functions of observed sockets
 * and the policy. A connection is allowed when any rule matches all of its fields.
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
    findings.set(key, {
      collector: 'network',
      kind: 'unexpected_outbound',
      severity: 'warning',
      subject,
      message: `${exe} (pid ${ownerPidsText(c.ownership)}) is connected to ${c.protocol} ${endpoint(c.remoteAddress, c.remotePort)}, which no outbound rule allows`,
    });
  }
  return [...findings.values()];
}

import { z } from 'zod';
import type { ListenerRule, ListenersPolicy } from '../config/sections/listeners.js';
import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { compileCidr, type IpMatcher } from '../match/cidr.js';
import { inPortRange, parsePortRange, type PortRange } from '../match/port-range.js';
import { bindAddressLabel, parseIpOnce } from './classify.js';
import { compiledPerPolicy } from './compiled-per-policy.js';
import { compileOwnerConstraint, ownerExeText, ownerMatches, ownerPidsText, ownerUserText, type OwnerConstraint } from './owner-match.js';
import { networkKinds } from './kinds.js';
import { isOutboundKey } from './outbound-baseline.js';
import type { ObservedSocket, Ownership } from './snapshot.js';

/**
 * Judgment of listening sockets: pure functions of the observed sockets, the `listeners` policy and
 * the baseline section. A listener is expected when a rule or the baseline accounts for it; an
 * allowed port held by another program is a finding of its own reason.
 */
export type ListenerReason =
  /** No rule and no baseline entry covers this protocol, address and port. */
  | 'not_allowed'
  /** The port is allowed, but only for another program or user. */
  | 'unexpected_program'
  /** The port is allowed only for a program, and the owner could not be found (kernel socket, permissions). */
  | 'owner_unknown';

export const listenerReasons: readonly ListenerReason[] = ['not_allowed', 'unexpected_program', 'owner_unknown'];

export interface UnexpectedListener {
  readonly socket: ObservedSocket;
  readonly address: string;
  readonly reason: ListenerReason;
}

/** Baseline entry for one listener, keyed by listenerKey: the programs that held it when it was learned. */
export const listenerBaselineEntrySchema = z.object({ exe: z.array(z.string()) }).strict();
export type ListenerBaselineEntry = z.infer<typeof listenerBaselineEntrySchema>;
export type ListenerBaseline = ReadonlyMap<string, ListenerBaselineEntry>;

/** "tcp/any/22", "udp/loopback/53", "tcp/192.0.2.7/8080": what identifies a listener across restarts. */
export function listenerKey(socket: Pick<ObservedSocket, 'protocol' | 'localAddress' | 'localPort'>): string {
  return `${socket.protocol}/${bindAddressLabel(socket.localAddress)}/${socket.localPort}`;
}

interface CompiledRule {
  readonly protocol: ListenerRule['protocol'];
  readonly ports: PortRange;
  readonly address: 'any' | 'loopback' | IpMatcher;
  readonly owner: OwnerConstraint;
}

const compileRules = compiledPerPolicy((policy: ListenersPolicy): readonly CompiledRule[] =>
  policy.allow.map((r) => ({
    protocol: r.protocol,
    ports: parsePortRange(r.port),
    address: r.address === 'any' || r.address === 'loopback' ? r.address : compileCidr(r.address),
    owner: compileOwnerConstraint(r.exe, r.user),
  })),
);

function addressMatches(rule: CompiledRule, socket: ObservedSocket): boolean {
  if (rule.address === 'any') return true;
  const label = bindAddressLabel(socket.localAddress);
  if (rule.address === 'loopback') return label === 'loopback';
  // The bind address itself: 10.0.0.0/8 does not cover a socket on 0.0.0.0, but 0.0.0.0 (or ::) does.
  const ip = parseIpOnce(socket.localAddress);
  return ip !== undefined && rule.address(ip);
}

type Outcome = 'expected' | ListenerReason;

function judgeByRules(rules: readonly CompiledRule[], socket: ObservedSocket): Outcome {
  let best: Outcome = 'not_allowed';
  for (const rule of rules) {
    if (rule.protocol !== 'any' && rule.protocol !== socket.protocol) continue;
    if (!inPortRange(rule.ports, socket.localPort) || !addressMatches(rule, socket)) continue;
    const owner = ownerMatches(rule.owner, socket.ownership);
    if (owner === 'yes') return 'expected';
    if (owner === 'unknown' && best === 'not_allowed') best = 'owner_unknown';
    if (owner === 'no') best = 'unexpected_program';
  }
  return best;
}

function judgeByBaseline(entry: ListenerBaselineEntry | undefined, ownership: Ownership): Outcome {
  if (!entry) return 'not_allowed';
  // Learned while its owner could not be seen: the port is known, any program is accepted.
  if (entry.exe.length === 0) return 'expected';
  if (ownership.kind === 'kernel') return entry.exe.includes('kernel') ? 'expected' : 'unexpected_program';
  if (ownership.kind !== 'known' || ownership.owners.some((o) => o.exe === undefined)) return 'owner_unknown';
  return ownership.owners.every((o) => entry.exe.includes(o.exe!)) ? 'expected' : 'unexpected_program';
}

/** The stronger of two reasons: a wrong program says more than an unknown one, which says more than "no rule". */
function stronger(a: Outcome, b: Outcome): Outcome {
  const rank: Record<Outcome, number> = { expected: 3, unexpected_program: 2, owner_unknown: 1, not_allowed: 0 };
  return rank[a] >= rank[b] ? a : b;
}

function ownedBySelf(ownership: Ownership): boolean {
  return ownership.kind === 'known' && ownership.owners.length > 0 && ownership.owners.every((o) => o.self);
}

/** The verdict on a socket holding this local port and address, by the rules and the baseline entry for it. */
function listenerOutcome(rules: readonly CompiledRule[], socket: ObservedSocket, entry: ListenerBaselineEntry | undefined): Outcome {
  if (ownedBySelf(socket.ownership)) return 'expected';
  return stronger(judgeByRules(rules, socket), judgeByBaseline(entry, socket.ownership));
}

export function judgeListeners(
  listeners: readonly ObservedSocket[],
  policy: ListenersPolicy,
  baseline: ListenerBaseline | undefined,
): UnexpectedListener[] {
  const rules = compileRules(policy);
  const unexpected: UnexpectedListener[] = [];
  for (const socket of listeners) {
    const outcome = listenerOutcome(rules, socket, baseline?.get(listenerKey(socket)));
    if (outcome !== 'expected') unexpected.push({ socket, address: bindAddressLabel(socket.localAddress), reason: outcome });
  }
  return unexpected;
}

/**
 * Whether the program holding a connection would be expected listening on the connection's local
 * port and address, by the rules and baseline that judge listeners: what makes a connection whose
 * listener has closed the session of a server the host runs there. That listener was bound to the
 * connection's own address or to all addresses, so the baseline entry for either counts. As for a
 * listener, an owner that cannot be found passes only a rule or entry that names no program.
 */
export function allowedToListen(connection: ObservedSocket, policy: ListenersPolicy, baseline: ListenerBaseline | undefined): boolean {
  const rules = compileRules(policy);
  const onAnyAddress = listenerKey({ protocol: connection.protocol, localAddress: '0.0.0.0', localPort: connection.localPort });
  return [listenerKey(connection), onAnyAddress].some((key) => listenerOutcome(rules, connection, baseline?.get(key)) === 'expected');
}

const reasonText: Record<ListenerReason, string> = {
  not_allowed: 'no listeners rule or baseline entry allows it',
  unexpected_program: 'the port is allowed, but not for this program or user',
  owner_unknown: 'the port is allowed only for a program, and the owning process could not be found',
};

/** One finding per distinct subject: the IPv4 and IPv6 sockets of one server are one listener. */
export function listenerFindings(unexpected: readonly UnexpectedListener[]): Finding[] {
  const findings = new Map<string, Finding>();
  for (const { socket, address, reason } of unexpected) {
    const exe = ownerExeText(socket.ownership);
    const subject = { protocol: socket.protocol, address, port: socket.localPort, exe, user: ownerUserText(socket.ownership), reason };
    const key = JSON.stringify(subject);
    if (findings.has(key)) continue;
    const message = `${socket.protocol} ${endpoint(socket.localAddress, socket.localPort)} is listening (${exe}, pid ${ownerPidsText(socket.ownership)}): ${reasonText[reason]}`;
    findings.set(
      key,
      finding(networkKinds.unexpected_listener, subject, message, reason === 'unexpected_program' ? 'critical' : 'warning'),
    );
  }
  return [...findings.values()];
}

export function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** What `baseline init` records: every listener but the exporter's own, with the programs holding it. */
export function learnListeners(listeners: readonly ObservedSocket[]): Record<string, ListenerBaselineEntry> {
  const entries: Record<string, ListenerBaselineEntry> = {};
  for (const socket of listeners) {
    if (ownedBySelf(socket.ownership)) continue;
    const key = listenerKey(socket);
    const exes = new Set(entries[key]?.exe ?? []);
    if (socket.ownership.kind === 'known') for (const o of socket.ownership.owners) if (o.exe !== undefined && !o.self) exes.add(o.exe);
    if (socket.ownership.kind === 'kernel') exes.add('kernel');
    entries[key] = { exe: [...exes].sort() };
  }
  return entries;
}

/**
 * The listener entries of the verified baseline section, entry by entry: an entry of the wrong shape
 * is left out (judged by policy alone). The section's outbound entries are read by outbound-baseline.ts.
 */
export function readListenerBaseline(section: Record<string, unknown> | undefined): {
  baseline: ListenerBaseline | undefined;
  invalid: number;
} {
  if (!section) return { baseline: undefined, invalid: 0 };
  const baseline = new Map<string, ListenerBaselineEntry>();
  let invalid = 0;
  for (const [key, value] of Object.entries(section)) {
    if (isOutboundKey(key)) continue;
    const parsed = listenerBaselineEntrySchema.safeParse(value);
    if (parsed.success) baseline.set(key, parsed.data);
    else invalid++;
  }
  return { baseline, invalid };
}

import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { PortRange } from '../match/port-range.js';
import type { NetProtocol } from '../procfs/net.js';
import type { PortProbe, ProbeResult } from './port-probe.js';

/**
 * Hidden ports, the technique of unhide-tcp and OSSEC rootcheck: a port that cannot be bound (some
 * socket holds it) yet appears in no /proc/net table is held by a socket someone hides. Every port
 * is probed once; each port that looks hidden is probed again after a delay, with the tables read
 * right before and right after, and only a port hidden both times is reported.
 */
export interface HiddenPort {
  readonly protocol: NetProtocol;
  readonly port: number;
}

export interface SweepResult {
  readonly at: Date;
  readonly durationSeconds: number;
  readonly hidden: readonly HiddenPort[];
  /** Ports probed, per protocol. */
  readonly probed: Readonly<Record<NetProtocol, number>>;
  /** Ports that could not be probed (privileged ports without root), per protocol. */
  readonly unchecked: Readonly<Record<NetProtocol, number>>;
  /** Ports that looked hidden at the first probe and were probed again. */
  readonly candidates: number;
}

export interface SweepOptions {
  readonly protocols: readonly NetProtocol[];
  readonly ports: PortRange;
  readonly confirmDelayMs: number;
  readonly probe: PortProbe;
  /** Local ports of every socket in the tables (any state, both families): what the kernel admits to. */
  readonly visiblePorts: (protocol: NetProtocol) => ReadonlySet<number>;
  readonly signal?: AbortSignal;
  /** Ports probed between two yields to the event loop, so scrapes are served during a sweep. */
  readonly portsPerSlice?: number;
}

type PortState = 'free' | 'in_use' | 'unchecked';

/** In use when either family's wildcard bind fails; unchecked when neither could be tried. */
function portState(probe: PortProbe, protocol: NetProtocol, port: number): PortState {
  const results: ProbeResult[] = [probe.probe(protocol, 4, port), probe.probe(protocol, 6, port)];
  if (results.includes('in_use')) return 'in_use';
  return results.includes('free') ? 'free' : 'unchecked';
}

export async function sweepHiddenPorts(options: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const slice = options.portsPerSlice ?? 512;
  const probed: Record<NetProtocol, number> = { tcp: 0, udp: 0 };
  const unchecked: Record<NetProtocol, number> = { tcp: 0, udp: 0 };
  const candidates: HiddenPort[] = [];

  for (const protocol of options.protocols) {
    const visible = options.visiblePorts(protocol);
    const found: number[] = [];
    for (let port = Math.max(1, options.ports.from), n = 0; port <= options.ports.to; port++) {
      if (visible.has(port)) continue;
      const state = portState(options.probe, protocol, port);
      probed[protocol]++;
      if (state === 'in_use') found.push(port);
      else if (state === 'unchecked') unchecked[protocol]++;
      if (++n % slice === 0) {
        await yieldToEventLoop();
        options.signal?.throwIfAborted();
      }
    }
    // A socket opened during the pass shows in the tables now.
    const visibleAfter = options.visiblePorts(protocol);
    for (const port of found) if (!visibleAfter.has(port)) candidates.push({ protocol, port });
  }

  const hidden: HiddenPort[] = [];
  if (candidates.length > 0) {
    await sleep(options.confirmDelayMs, undefined, { signal: options.signal });
    for (const protocol of options.protocols) {
      const mine = candidates.filter((c) => c.protocol === protocol);
      if (mine.length === 0) continue;
      const before = options.visiblePorts(protocol);
      const stillInUse = mine.filter((c) => !before.has(c.port) && portState(options.probe, protocol, c.port) === 'in_use');
      const after = options.visiblePorts(protocol);
      hidden.push(...stillInUse.filter((c) => !after.has(c.port)));
    }
  }
  return {
    at: new Date(),
    durationSeconds: (performance.now() - started) / 1000,
    hidden,
    probed,
    unchecked,
    candidates: candidates.length,
  };
}

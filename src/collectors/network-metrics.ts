import type { Counter, Gauge } from 'prom-client';
import type { CollectorEnv } from './collector.js';
import type { CappedSeries } from '../metrics/capped-series.js';
import { networkMetricSpecs as specs } from '../metrics/network.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import type { NetProtocol } from '../procfs/net.js';
import type { SweepResult } from '../network/hidden-ports.js';
import { listenerReasons, type UnexpectedListener } from '../network/judge-listeners.js';
import { outboundReasons, type Direction, type UnexpectedOutbound } from '../network/judge-outbound.js';
import { remoteClassOf, type ShellOnSocket } from '../network/judge-shell-on-socket.js';
import { flaggedConnectionKinds, type TrafficMeasurement } from '../network/flagged-traffic.js';
import { programClasses, type ProgramClass } from '../network/program-class.js';
import type { OutboundPolicy } from '../config/sections/outbound.js';
import { ownerExeText } from '../network/owner-match.js';
import type { NetworkSnapshot, ObservedSocket, Ownership } from '../network/snapshot.js';

const protocols: readonly NetProtocol[] = ['tcp', 'udp'];

/** The network collector's output side: sets its metrics from a snapshot and the verdicts on it. */
export class NetworkMetrics {
  private readonly listeners: Gauge<'protocol' | 'family'>;
  private readonly unexpectedListeners: Gauge<'protocol' | 'reason'>;
  private readonly unexpectedListener: CappedSeries<'protocol' | 'address' | 'port' | 'exe' | 'user_class' | 'reason'>;
  private readonly outbound: Gauge<'protocol'>;
  private readonly presumedAccepted: Gauge<'protocol'>;
  private readonly unexpectedOutbound: Gauge<'protocol' | 'reason'>;
  private readonly unexpectedOutboundConnection: CappedSeries<'protocol' | 'exe' | 'reason' | 'remote_class' | 'remote_port'>;
  private readonly shellOnSocket: CappedSeries<'exe' | 'user_class' | 'program_class' | 'protocol' | 'direction' | 'remote_class' | 'port'>;
  private readonly shellOnSocketStarts: Counter<'program_class'>;
  private readonly flaggedBytes: Counter<'direction' | 'kind'>;
  private readonly tcpInfoReads: Counter;
  private readonly hiddenPorts: Gauge<'protocol'>;
  private readonly hiddenPort: CappedSeries<'protocol' | 'port'>;
  private readonly sweepTimestamp: Gauge;
  private readonly sweepDuration: Gauge;
  private readonly sweepUnchecked: Gauge<'protocol'>;
  private readonly ownerUnknown: Gauge<'cause'>;
  private readonly fdScans: Counter;
  private readonly fdScanProcesses: Counter;
  private readonly readProblems: Counter<'problem'>;

  constructor(env: CollectorEnv) {
    const r = env.registry;
    this.listeners = registerGauge(r, specs.listeners);
    this.unexpectedListeners = registerGauge(r, specs.unexpectedListeners);
    this.unexpectedListener = env.cappedSeries(specs.unexpectedListener);
    this.outbound = registerGauge(r, specs.outboundConnections);
    this.presumedAccepted = registerGauge(r, specs.presumedAccepted);
    this.unexpectedOutbound = registerGauge(r, specs.unexpectedOutbound);
    this.unexpectedOutboundConnection = env.cappedSeries(specs.unexpectedOutboundConnection);
    this.shellOnSocket = env.cappedSeries(specs.shellOnSocket);
    this.shellOnSocketStarts = registerCounter(r, specs.shellOnSocketStarts);
    this.flaggedBytes = registerCounter(r, specs.flaggedBytes);
    this.tcpInfoReads = registerCounter(r, specs.tcpInfoReads);
    this.hiddenPorts = registerGauge(r, specs.hiddenPorts);
    this.hiddenPort = env.cappedSeries(specs.hiddenPort);
    this.sweepTimestamp = registerGauge(r, specs.sweepTimestamp);
    this.sweepDuration = registerGauge(r, specs.sweepDuration);
    this.sweepUnchecked = registerGauge(r, specs.sweepUnchecked);
    this.ownerUnknown = registerGauge(r, specs.ownerUnknown);
    this.fdScans = registerCounter(r, specs.fdScans);
    this.fdScanProcesses = registerCounter(r, specs.fdScanProcesses);
    this.readProblems = registerCounter(r, specs.readProblems);
    for (const problem of ['malformed_line', 'socket_gone', 'process_gone', 'fd_denied', 'tcp_info_failed'])
      this.readProblems.inc({ problem }, 0);
    for (const program_class of programClasses) this.shellOnSocketStarts.inc({ program_class }, 0);
    for (const kind of flaggedConnectionKinds) for (const direction of ['sent', 'received']) this.flaggedBytes.inc({ direction, kind }, 0);
    this.tcpInfoReads.inc(0);
  }

  recordSnapshot(snapshot: NetworkSnapshot): void {
    this.listeners.reset();
    for (const protocol of protocols) {
      for (const family of [4, 6] as const) {
        const n = snapshot.listeners.filter((s) => s.protocol === protocol && s.family === family).length;
        this.listeners.set({ protocol, family: `ipv${family}` }, n);
      }
    }
    const unknown = { denied: 0, not_found: 0 };
    for (const s of [...snapshot.listeners, ...snapshot.connections]) if (s.ownership.kind === 'unknown') unknown[s.ownership.reason]++;
    for (const [cause, n] of Object.entries(unknown)) this.ownerUnknown.set({ cause }, n);
    if (snapshot.processesScanned > 0) {
      this.fdScans.inc();
      this.fdScanProcesses.inc(snapshot.processesScanned);
    }
    const p = snapshot.problems;
    this.readProblems.inc({ problem: 'malformed_line' }, p.malformedLines);
    this.readProblems.inc({ problem: 'socket_gone' }, p.socketsGone);
    this.readProblems.inc({ problem: 'process_gone' }, p.processesGone);
    this.readProblems.inc({ problem: 'fd_denied' }, p.fdDenied);
  }

  recordListeners(unexpected: readonly UnexpectedListener[]): void {
    this.unexpectedListeners.reset();
    for (const protocol of protocols) {
      for (const reason of listenerReasons) {
        this.unexpectedListeners.set(
          { protocol, reason },
          unexpected.filter((u) => u.socket.protocol === protocol && u.reason === reason).length,
        );
      }
    }
    this.unexpectedListener.replace(
      unexpected.map(({ socket, address, reason }) => ({
        labels: {
          protocol: socket.protocol,
          address,
          port: String(socket.localPort),
          exe: ownerExeText(socket.ownership),
          user_class: userClassText(socket.ownership),
          reason,
        },
        value: 1,
      })),
    );
  }

  /** Both undefined when the policy judges no outgoing connection: the series are then absent. */
  recordOutbound(direction: Direction | undefined, unexpected: readonly UnexpectedOutbound[] | undefined): void {
    this.outbound.reset();
    this.presumedAccepted.reset();
    if (direction) {
      for (const protocol of protocols) this.outbound.set({ protocol }, count(direction.outgoing, protocol));
      this.presumedAccepted.set({ protocol: 'tcp' }, direction.presumedAccepted.length);
    }
    this.unexpectedOutbound.reset();
    if (unexpected) {
      for (const protocol of protocols) {
        for (const reason of outboundReasons)
          this.unexpectedOutbound.set(
            { protocol, reason },
            unexpected.filter((u) => u.connection.protocol === protocol && u.reason === reason).length,
          );
      }
    }
    this.unexpectedOutboundConnection.replace(
      (unexpected ?? []).map(({ connection: c, reason, remoteClass }) => ({
        labels: {
          protocol: c.protocol,
          exe: ownerExeText(c.ownership),
          reason,
          remote_class: remoteClass,
          remote_port: String(c.remotePort),
        },
        value: 1,
      })),
    );
  }

  recordShellOnSocket(found: readonly ShellOnSocket[], outbound: OutboundPolicy): void {
    this.shellOnSocket.replace(
      found.map(({ stdio: s, programClass }) => ({
        labels: {
          exe: s.owner.exe ?? 'unknown',
          user_class: s.owner.userClass,
          program_class: programClass,
          protocol: s.socket.protocol,
          direction: s.role,
          remote_class: remoteClassOf(s, outbound),
          port: String(s.role === 'outgoing' ? s.socket.remotePort : s.socket.localPort),
        },
        value: 1,
      })),
    );
  }

  countShellOnSocketStart(programClass: ProgramClass): void {
    this.shellOnSocketStarts.inc({ program_class: programClass });
  }

  recordTraffic(measurement: TrafficMeasurement, ran: boolean): void {
    if (ran) this.tcpInfoReads.inc();
    if (measurement.problem !== undefined) this.readProblems.inc({ problem: 'tcp_info_failed' });
    for (const kind of flaggedConnectionKinds) {
      const { sent, received } = measurement.deltas[kind];
      this.flaggedBytes.inc({ direction: 'sent', kind }, sent);
      this.flaggedBytes.inc({ direction: 'received', kind }, received);
    }
  }

  recordSweep(result: SweepResult | undefined): void {
    const hidden = result?.hidden ?? [];
    for (const protocol of protocols) {
      this.hiddenPorts.set({ protocol }, hidden.filter((h) => h.protocol === protocol).length);
      this.sweepUnchecked.set({ protocol }, result?.unchecked[protocol] ?? 0);
    }
    this.hiddenPort.replace(hidden.map((h) => ({ labels: { protocol: h.protocol, port: String(h.port) }, value: 1 })));
    this.sweepTimestamp.set(result ? result.at.getTime() / 1000 : 0);
    this.sweepDuration.set(result?.durationSeconds ?? 0);
  }
}

function count(sockets: readonly ObservedSocket[], protocol: NetProtocol): number {
  let n = 0;
  for (const s of sockets) if (s.protocol === protocol) n++;
  return n;
}

function userClassText(ownership: Ownership): string {
  return ownership.kind === 'known' ? [...new Set(ownership.owners.map((o) => o.userClass))].sort().join(',') : 'unknown';
}

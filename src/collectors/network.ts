import { kindNames } from '../findings/kinds.js';
import type { BaselineEntries } from '../baseline/baseline.js';
import type { OutboundPolicy } from '../config/sections/outbound.js';
import type { Policy } from '../config/policy-schema.js';
import { AcceptedConnections, classifyConnections, isListening } from '../network/classify.js';
import { destinationClass } from '../network/destination-class.js';
import { FlaggedTraffic, type FlaggedConnection } from '../network/flagged-traffic.js';
import { HiddenPortSweeper } from '../network/hidden-port-sweeper.js';
import { hiddenPortFindings } from '../network/judge-hidden-ports.js';
import { judgeListeners, learnListeners, listenerFindings, readListenerBaseline } from '../network/judge-listeners.js';
import { judgeShellOnSocket, shellOnSocketFindings } from '../network/judge-shell-on-socket.js';
import { NetworkMetrics } from './network-metrics.js';
import { observeNetwork } from '../network/observe.js';
import { judgeDirection, judgeOutbound, outboundFindings, outboundNeedsOwner } from '../network/judge-outbound.js';
import { networkKinds } from '../network/kinds.js';
import { learnOutbound, readOutboundBaseline, type OutboundBaseline, type OutboundEntry } from '../network/outbound-baseline.js';
import { programClassOf, type ProgramLists } from '../network/program-class.js';
import { forgetServingExporter, recordServingExporter, servingExporterPid } from '../network/serving-exporter.js';
import { SocketOwnerIndex } from '../network/socket-owner-index.js';
import { ContainerStdioWatch, type ContainerProcess } from '../network/container-stdio.js';
import type { ContainerOf } from '../network/container-naming.js';
import { networkNamespace } from '../procfs/namespaces.js';
import type { NetworkSnapshot, ObservedSocket, SocketOnStdio, StdioSocketRole } from '../network/snapshot.js';
import { readTcpInfo } from '../network/tcp-info.js';
import { kernelDefaultEphemeralPorts, readEphemeralPorts, type EphemeralPorts } from '../procfs/local-ports.js';
import { readNetTables, type NetSocket } from '../procfs/net.js';
import { readProcess } from '../procfs/process-table.js';
import { readStdioSockets } from '../procfs/socket-owners.js';
import { UserDirectory } from '../rootfs/users.js';
import { FleetFactSeries } from './fleet-facts.js';
import { listenerFacts } from '../fleet/flagged-listeners.js';
import { fleetMetricSpecs } from '../metrics/fleet.js';
import { processesShared, type ProcessesShared } from './processes-shared.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';
import { collectorCatalog } from './catalog.js';

export const networkCollectorName = collectorCatalog.network.name;

/** Whether the policy judges any outgoing connection. */
function judgesOutbound(outbound: OutboundPolicy): boolean {
  return outbound.judge === 'all' || outbound.flagged_processes || outbound.new_destinations;
}

function programLists(policy: Policy): ProgramLists {
  return { interpreters: policy.processes.interpreters, networkTools: policy.outbound.network_tools };
}

/**
 * Listening sockets, outgoing connections, shells on sockets and hidden ports: what an operator
 * checks with `ss -tulnp`, `lsof -i` and unhide-tcp, judged against the `listeners`, `outbound` and
 * `shell_on_socket` policy sections, the learned listeners and destinations, and the processes the
 * processes collector flagged.
 */
class NetworkCollector implements Collector {
  readonly name = networkCollectorName;
  readonly findingKinds = kindNames(networkKinds);
  private readonly index: SocketOwnerIndex;
  private readonly users: UserDirectory;
  private readonly metrics: NetworkMetrics;
  private readonly fleetFacts: FleetFactSeries<'sha256' | 'exe' | 'protocol' | 'port'>;
  private readonly sweeper: HiddenPortSweeper;
  private readonly accepted = new AcceptedConnections();
  private readonly containerStdio: ContainerStdioWatch;
  private readonly traffic = new FlaggedTraffic((connections) => readTcpInfo(connections));
  private readonly processes: ProcessesShared;
  private invalidBaselineEntries = 0;
  private outboundBaselineState: string | undefined;
  private ephemeralPortsProblem: string | undefined;
  private tcpInfoProblem: string | undefined;
  private serving = false;
  private context: (() => CollectorContext) | undefined;
  private stopStarts: (() => void) | undefined;
  /** Listeners as last observed, for the watch of starts: which of them a super-server holds. */
  private lastListeners: readonly ObservedSocket[] = [];
  /** Processes the watch of starts counted on a socket, for the ticks that may look at them again. */
  private countedStarts = new Set<number>();

  constructor(private readonly env: CollectorEnv) {
    this.index = new SocketOwnerIndex(env.paths.procfs);
    this.containerStdio = new ContainerStdioWatch(env.paths.procfs);
    this.users = new UserDirectory(env.paths.rootfs);
    this.metrics = new NetworkMetrics(env);
    this.fleetFacts = new FleetFactSeries(env, fleetMetricSpecs.flaggedListener);
    this.sweeper = new HiddenPortSweeper(env.paths.procfs, env.log);
    this.processes = processesShared(env);
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    const { outbound } = ctx.policy;
    const snapshot = await this.observe(ctx);
    this.lastListeners = snapshot.listeners;
    const { listeners: baseline, outbound: outboundBaseline } = this.baseline(ctx);
    const programs = programLists(ctx.policy);
    const unexpectedListeners = judgeListeners(snapshot.listeners, ctx.policy.listeners, baseline);
    const judged = judgesOutbound(outbound);
    const direction = judged ? judgeDirection(snapshot.connections, ctx.policy.listeners, baseline) : undefined;
    const unexpectedOutbound =
      direction &&
      judgeOutbound(direction.outgoing, { policy: outbound, programs, flagged: this.processes.flagged, baseline: outboundBaseline });
    const shells = judgeShellOnSocket(snapshot.stdio, ctx.policy.shell_on_socket, programs);
    const containerOf = this.containerOf();
    const hidden = ctx.policy.listeners.hidden_ports.enabled ? this.sweeper.lastResult : undefined;

    const flaggedConnections: FlaggedConnection[] = [
      ...shells.filter((s) => s.stdio.role !== 'listening').map((s) => ({ socket: s.stdio.socket, kind: 'shell_on_socket' as const })),
      ...(unexpectedOutbound ?? []).map((u) => ({ socket: u.connection, kind: 'unexpected_outbound' as const })),
    ];
    const traffic = await this.traffic.measure(flaggedConnections);
    this.reportTcpInfoProblem(traffic.problem);

    this.metrics.recordSnapshot(snapshot);
    this.metrics.recordListeners(unexpectedListeners);
    this.fleetFacts.publish(ctx.policy.listeners.fleet_facts.max_series, (lookup) => listenerFacts(unexpectedListeners, lookup));
    this.metrics.recordOutbound(direction, unexpectedOutbound);
    this.metrics.recordShellOnSocket(shells, outbound);
    this.metrics.recordTraffic(
      traffic,
      flaggedConnections.some((f) => f.socket.protocol === 'tcp'),
    );
    this.metrics.recordSweep(hidden);
    return {
      findings: [
        ...listenerFindings(unexpectedListeners),
        ...outboundFindings(unexpectedOutbound ?? [], containerOf),
        ...shellOnSocketFindings(shells, outbound, containerOf),
        ...hiddenPortFindings(hidden?.hidden ?? []),
      ],
    };
  }

  /**
   * The listeners with their programs, and the destinations shells, interpreters and network tools
   * use now, added to those the baseline learned before (connections come and go; a destination is
   * forgotten only by a new baseline: `baseline.json` removed and `baseline init`).
   */
  async learn(ctx: CollectorContext): Promise<BaselineEntries> {
    const outbound = { ...ctx.policy.outbound, judge: 'unusual' as const, new_destinations: true };
    const snapshot = await this.observe({
      ...ctx,
      policy: { ...ctx.policy, outbound, shell_on_socket: { ...ctx.policy.shell_on_socket, enabled: false } },
    });
    const programs = programLists(ctx.policy);
    const { listeners: baseline } = this.baseline(ctx);
    const destinations: OutboundEntry[] = [];
    for (const c of judgeDirection(snapshot.connections, ctx.policy.listeners, baseline).outgoing) {
      if (c.ownership.kind !== 'known') continue;
      for (const o of c.ownership.owners) {
        if (o.self || o.exe === undefined || programClassOf(o.exe, programs) === 'other') continue;
        destinations.push({ exe: o.exe, protocol: c.protocol, class: destinationClass(c.remoteAddress, outbound), port: c.remotePort });
      }
    }
    return { ...learnListeners(snapshot.listeners), ...learnOutbound(destinations, ctx.baseline?.[this.name]) };
  }

  async start(context: () => CollectorContext): Promise<void> {
    const ctx = context();
    this.context = context;
    try {
      recordServingExporter(ctx.paths.stateDir, ctx.paths.procfs);
      this.serving = true;
    } catch (error) {
      this.env.log.warn('cannot record the serving exporter: `check` on this host will report its port', { err: (error as Error).message });
    }
    this.sweeper.configure(ctx.policy.listeners.hidden_ports);
    this.fleetFacts.start();
    this.stopStarts = this.processes.onStarts((pids) => {
      this.examineStarts(pids).catch((error: unknown) =>
        this.env.log.warn('cannot look at the standard streams of new processes', {
          err: error instanceof Error ? error.message : String(error),
        }),
      );
    });
  }

  policyChanged(ctx: CollectorContext): void {
    this.sweeper.configure(ctx.policy.listeners.hidden_ports);
  }

  async stop(): Promise<void> {
    this.stopStarts?.();
    if (this.serving) forgetServingExporter(this.env.paths.stateDir);
    await this.sweeper.stop();
    await this.fleetFacts.stop();
  }

  /** The container of a process, as the processes collector identified it in this collection. */
  private containerOf(): ContainerOf {
    const containers = this.processes.containers;
    return (pid) => containers.get(pid)?.identity;
  }

  /**
   * The processes in containers, for sockets on standard streams in their own network namespaces;
   * none when the exporter cannot tell its own namespace (then it cannot tell theirs apart).
   */
  private async containersToWatch(
    ctx: CollectorContext,
  ): Promise<{ watch: ContainerStdioWatch; processes: ContainerProcess[]; hostNetns: string } | undefined> {
    if (!ctx.policy.shell_on_socket.enabled || this.processes.containers.size === 0) return undefined;
    const hostNetns = await networkNamespace(ctx.paths.procfs, 'self');
    if (hostNetns === undefined) return undefined;
    const processes: ContainerProcess[] = [];
    for (const [pid, facts] of this.processes.containers) processes.push({ pid, key: facts });
    return { watch: this.containerStdio, processes, hostNetns };
  }

  private async observe(ctx: CollectorContext): Promise<NetworkSnapshot> {
    const { outbound, shell_on_socket } = ctx.policy;
    const judged = judgesOutbound(outbound);
    const wanted = judged || shell_on_socket.enabled;
    return observeNetwork({
      procfs: ctx.paths.procfs,
      index: this.index,
      users: this.users,
      selfPids: this.selfPids(ctx),
      containers: wanted ? await this.containersToWatch(ctx) : undefined,
      connections: wanted
        ? {
            watchLoopback: outbound.watch_loopback,
            ephemeralPorts: this.ephemeralPorts(ctx),
            needsOwner: judged ? (socket) => outboundNeedsOwner(outbound, socket) : undefined,
            accepted: this.accepted,
            stdio: shell_on_socket.enabled,
          }
        : undefined,
    });
  }

  /**
   * The watch of starts (the processes collector's) saw these PIDs: count each that has a shell_on_socket
   * verdict, also when it exits before the next scrape. Three readlinks per new process; the socket
   * tables are read only when one of them has a socket as a standard stream.
   */
  private async examineStarts(pids: readonly number[]): Promise<void> {
    const ctx = this.context?.();
    if (!ctx || !ctx.policy.shell_on_socket.enabled || pids.length === 0) return;
    const procfs = ctx.paths.procfs;
    const reads = await Promise.all(pids.map(async (pid) => ({ pid, read: await readStdioSockets(procfs, pid) })));
    const onSockets = reads.filter((r) => r.read.ok && r.read.sockets.length > 0);
    const still = new Set(pids);
    this.countedStarts = new Set([...this.countedStarts].filter((pid) => still.has(pid)));
    if (onSockets.length === 0) return;
    const tables = readNetTables(procfs);
    const listeners = tables.sockets.filter(isListening);
    const connections = classifyConnections(tables.sockets, listeners, { ephemeralPorts: this.ephemeralPorts(ctx) });
    const byInode = new Map<number, NetSocket & { role: StdioSocketRole }>();
    for (const l of listeners) byInode.set(l.inode, { ...l, role: 'listening' });
    for (const c of connections) byInode.set(c.inode, { ...c, role: c.incoming || c.maybeAccepted ? 'incoming' : 'outgoing' });
    this.users.refresh();
    const selfPids = this.selfPids(ctx);
    const stdio: SocketOnStdio[] = [];
    for (const { pid, read } of onSockets) {
      if (!read.ok || this.countedStarts.has(pid) || selfPids.has(pid)) continue;
      const proc = readProcess(procfs, pid);
      if (!proc.ok) continue;
      const { exe, euid } = proc.process;
      const owner = {
        pid,
        exe: exe.kind === 'path' ? exe.path : undefined,
        uid: euid,
        user: this.users.nameOf(euid),
        userClass: this.users.classOfUid(euid),
        self: false,
      };
      for (const { fd, inode } of read.sockets) {
        const socket = byInode.get(inode);
        if (!socket) continue;
        const { role, ...rest } = socket;
        stdio.push({ owner, fds: [fd], socket: rest, role, listener: this.listenerOf(rest, role) });
      }
    }
    for (const shell of judgeShellOnSocket(stdio, ctx.policy.shell_on_socket, programLists(ctx.policy))) {
      const { pid } = shell.stdio.owner;
      if (this.countedStarts.has(pid)) continue;
      this.countedStarts.add(pid);
      this.metrics.countShellOnSocketStart(shell.programClass);
      this.env.log.warn('process started with a socket as a standard stream', {
        pid,
        exe: shell.stdio.owner.exe ?? 'unknown',
        program_class: shell.programClass,
        protocol: shell.stdio.socket.protocol,
        direction: shell.stdio.role,
        port: shell.stdio.role === 'outgoing' ? shell.stdio.socket.remotePort : shell.stdio.socket.localPort,
      });
    }
  }

  /** Who held the listener of this socket at the last collection (listeners are long-lived; a super-server's are). */
  private listenerOf(socket: NetSocket, role: StdioSocketRole): SocketOnStdio['listener'] {
    if (role === 'outgoing') return undefined;
    const listener =
      role === 'listening'
        ? this.lastListeners.find((l) => l.inode === socket.inode)
        : this.lastListeners.find((l) => l.protocol === socket.protocol && l.localPort === socket.localPort);
    return listener?.ownership;
  }

  /** Read every collection (a sysctl can change at any time); the kernel default stands in when it cannot be read, said once. */
  private ephemeralPorts(ctx: CollectorContext): EphemeralPorts {
    let ports = kernelDefaultEphemeralPorts;
    let problem: string | undefined;
    try {
      ports = readEphemeralPorts(ctx.paths.procfs);
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (problem !== undefined && problem !== this.ephemeralPortsProblem) {
      const { from, to } = kernelDefaultEphemeralPorts.range;
      this.env.log.warn('cannot read the ephemeral port range; telling accepted connections from outgoing ones by the kernel default', {
        range: `${from}-${to}`,
        err: problem,
      });
    }
    this.ephemeralPortsProblem = problem;
    return ports;
  }

  /** Said once per new problem: without `ss` the traffic of flagged connections is not counted. */
  private reportTcpInfoProblem(problem: string | undefined): void {
    if (problem !== undefined && problem !== this.tcpInfoProblem) {
      this.env.log.warn('cannot read the byte counters of flagged connections (ss, from iproute2); their traffic is not counted', {
        err: problem,
      });
    }
    this.tcpInfoProblem = problem;
  }

  /** This process and, seen from `check` or `baseline`, the exporter serving beside it. */
  private selfPids(ctx: CollectorContext): ReadonlySet<number> {
    const serving = this.serving ? undefined : servingExporterPid(ctx.paths.stateDir, ctx.paths.procfs);
    return new Set(serving === undefined ? [process.pid] : [process.pid, serving]);
  }

  private baseline(ctx: CollectorContext): {
    listeners: ReturnType<typeof readListenerBaseline>['baseline'];
    outbound: OutboundBaseline | undefined;
  } {
    const section = ctx.baseline?.[this.name];
    const { baseline, invalid: invalidListeners } = readListenerBaseline(section);
    const outbound = section ? readOutboundBaseline(section) : undefined;
    const invalid = invalidListeners + (outbound?.invalid ?? 0);
    if (invalid !== this.invalidBaselineEntries) {
      this.invalidBaselineEntries = invalid;
      if (invalid > 0) this.env.log.warn('baseline network entries of the wrong shape are ignored', { entries: invalid });
    }
    const state = !outbound ? 'none' : outbound.baseline.learned ? 'learned' : 'not_learned';
    if (state !== this.outboundBaselineState && state === 'not_learned' && ctx.policy.outbound.new_destinations) {
      this.env.log.warn(
        'the baseline was written before destinations of shells, interpreters and network tools were learned: their outgoing connections are not judged until `baseline update`',
      );
    }
    this.outboundBaselineState = state;
    return { listeners: baseline, outbound: outbound?.baseline };
  }
}

export const networkCollector: CollectorDefinition = {
  ...collectorCatalog.network,
  create: (env) => new NetworkCollector(env),
};

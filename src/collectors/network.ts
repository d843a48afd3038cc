import { kindNames } from '../findings/kinds.js';
import type { BaselineEntries } from '../baseline/baseline.js';
import { AcceptedConnections } from '../network/classify.js';
import { HiddenPortSweeper } from '../network/hidden-port-sweeper.js';
import { hiddenPortFindings } from '../network/judge-hidden-ports.js';
import { judgeListeners, learnListeners, listenerFindings, readListenerBaseline } from '../network/judge-listeners.js';
import { NetworkMetrics } from './network-metrics.js';
import { observeNetwork } from '../network/observe.js';
import { judgeDirection, judgeOutbound, outboundFindings, outboundNeedsOwner } from '../network/judge-outbound.js';
import { networkKinds } from '../network/kinds.js';
import { forgetServingExporter, recordServingExporter, servingExporterPid } from '../network/serving-exporter.js';
import { SocketOwnerIndex } from '../network/socket-owner-index.js';
import type { NetworkSnapshot } from '../network/snapshot.js';
import { kernelDefaultEphemeralPorts, readEphemeralPorts, type EphemeralPorts } from '../procfs/local-ports.js';
import { UserDirectory } from '../rootfs/users.js';
import { FleetFactSeries } from './fleet-facts.js';
import { listenerFacts } from '../fleet/flagged-listeners.js';
import { fleetMetricSpecs } from '../metrics/fleet.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';

export const networkCollectorName = 'network';

/**
 * Listening sockets, outgoing connections and hidden ports: what an operator checks with
 * `ss -tulnp` and unhide-tcp, judged against the `listeners` and `outbound` policy sections and
 * the learned listeners.
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
  private invalidBaselineEntries = 0;
  private ephemeralPortsProblem: string | undefined;
  private serving = false;

  constructor(private readonly env: CollectorEnv) {
    this.index = new SocketOwnerIndex(env.paths.procfs);
    this.users = new UserDirectory(env.paths.rootfs);
    this.metrics = new NetworkMetrics(env);
    this.fleetFacts = new FleetFactSeries(env, fleetMetricSpecs.flaggedListener);
    this.sweeper = new HiddenPortSweeper(env.paths.procfs, env.log);
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    const outbound = ctx.policy.outbound;
    const snapshot = await this.observe(ctx);
    const baseline = this.baseline(ctx);
    const unexpectedListeners = judgeListeners(snapshot.listeners, ctx.policy.listeners, baseline);
    const direction = outbound && judgeDirection(snapshot.connections, ctx.policy.listeners, baseline);
    const unexpectedOutbound = outbound && direction && judgeOutbound(direction.outgoing, outbound);
    const hidden = ctx.policy.listeners.hidden_ports.enabled ? this.sweeper.lastResult : undefined;

    this.metrics.recordSnapshot(snapshot);
    this.metrics.recordListeners(unexpectedListeners);
    this.fleetFacts.publish(ctx.policy.listeners.fleet_facts.max_series, (lookup) => listenerFacts(unexpectedListeners, lookup));
    this.metrics.recordOutbound(direction, unexpectedOutbound);
    this.metrics.recordSweep(hidden);
    return {
      findings: [...listenerFindings(unexpectedListeners), ...outboundFindings(unexpectedOutbound ?? []), ...hiddenPortFindings(hidden?.hidden ?? [])],
    };
  }

  async learn(ctx: CollectorContext): Promise<BaselineEntries> {
    return learnListeners((await this.observe({ ...ctx, policy: { ...ctx.policy, outbound: undefined } })).listeners);
  }

  async start(context: () => CollectorContext): Promise<void> {
    const ctx = context();
    try {
      recordServingExporter(ctx.paths.stateDir, ctx.paths.procfs);
      this.serving = true;
    } catch (error) {
      this.env.log.warn('cannot record the serving exporter: `check` on this host will report its port', { err: (error as Error).message });
    }
    this.sweeper.configure(ctx.policy.listeners.hidden_ports);
    this.fleetFacts.start();
  }

  policyChanged(ctx: CollectorContext): void {
    this.sweeper.configure(ctx.policy.listeners.hidden_ports);
  }

  async stop(): Promise<void> {
    if (this.serving) forgetServingExporter(this.env.paths.stateDir);
    await this.sweeper.stop();
    await this.fleetFacts.stop();
  }

  private observe(ctx: CollectorContext): Promise<NetworkSnapshot> {
    const outbound = ctx.policy.outbound;
    return observeNetwork({
      procfs: ctx.paths.procfs,
      index: this.index,
      users: this.users,
      selfPids: this.selfPids(ctx),
      outgoing: outbound && {
        watchLoopback: outbound.watch_loopback,
        ephemeralPorts: this.ephemeralPorts(ctx),
        needsOwner: (socket) => outboundNeedsOwner(outbound, socket),
        accepted: this.accepted,
      },
    });
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
      this.env.log.warn('cannot read the ephemeral port range; telling accepted connections from outgoing ones by the kernel default', { range: `${from}-${to}`, err: problem });
    }
    this.ephemeralPortsProblem = problem;
    return ports;
  }

  /** This process and, seen from `check` or `baseline`, the exporter serving beside it. */
  private selfPids(ctx: CollectorContext): ReadonlySet<number> {
    const serving = this.serving ? undefined : servingExporterPid(ctx.paths.stateDir, ctx.paths.procfs);
    return new Set(serving === undefined ? [process.pid] : [process.pid, serving]);
  }

  private baseline(ctx: CollectorContext) {
    const { baseline, invalid } = readListenerBaseline(ctx.baseline?.[this.name]);
    if (invalid !== this.invalidBaselineEntries) {
      this.invalidBaselineEntries = invalid;
      if (invalid > 0) this.env.log.warn('baseline listener entries of the wrong shape are ignored', { entries: invalid });
    }
    return baseline;
  }
}

export const networkCollector: CollectorDefinition = {
  name: networkCollectorName,
  description: 'listening sockets, outgoing connections and hidden ports (ss -tulnp, unhide-tcp)',
  defaultEnabled: true,
  create: (env) => new NetworkCollector(env),
};

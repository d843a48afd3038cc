import type { Gauge } from 'prom-client';
import type { IdsPolicy } from '../config/sections/ids.js';
import { unparsedReasons } from '../ids/events.js';
import { kindNames } from '../findings/kinds.js';
import { idsFindings, type IdsSourceState } from '../ids/judge.js';
import { idsKinds } from '../ids/kinds.js';
import { IdsPipeline } from '../ids/pipeline.js';
import { idsIdentity, idsPositionFile, LastAlertStore, lookAtFile, resolveIdsSources, type IdsSourceSpec } from '../ids/sources.js';
import { CounterSync } from '../metrics/counter-sync.js';
import { idsMetricSpecs as specs } from '../metrics/ids.js';
import { labelValue, registerCounter, registerGauge } from '../metrics/spec.js';
import { FileFollower } from '../tail/file-follower.js';
import { FollowedSources } from '../tail/followed-sources.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';
import { collectorCatalog } from './catalog.js';

/** How long a collection waits for the files to be read up to their end before reporting. */
const catchUpMs = 2000;

/**
 * Alerts of the intrusion detection systems the policy names (`ids.sources`): Suricata EVE JSON,
 * Snort 3 alert_json, Wazuh/OSSEC alerts.json, each followed in `serve` with the auth collector's
 * rotation- and restart-safe file follower. Without an `ids` section it does nothing. `check`
 * reads nothing (the positions belong to the running exporter) and reports only whether each
 * output can be read and is still being written.
 */
class IdsCollector implements Collector {
  readonly name = 'ids';
  readonly findingKinds = kindNames(idsKinds);
  private readonly pipeline = new IdsPipeline();
  private readonly followed: FollowedSources<IdsSourceSpec, FileFollower>;
  /** max_event_bytes of the policy now: applied to new followers and, on reload, to running ones. */
  private maxLineBytes = 1024 * 1024;
  private readonly counters = new CounterSync();
  private readonly lastAlerts: LastAlertStore;
  private started = false;
  private readonly m;

  constructor(private readonly env: CollectorEnv) {
    this.lastAlerts = new LastAlertStore(env.paths.stateDir);
    this.followed = new FollowedSources({
      identity: idsIdentity,
      start: (spec) => this.follow(spec),
      update: (follower) => follower.setMaxLineBytes(this.maxLineBytes),
    });
    const r = env.registry;
    this.m = {
      alerts: registerCounter(r, specs.alerts),
      lastAlert: registerGauge(r, specs.lastAlert),
      lastWrite: registerGauge(r, specs.lastWrite),
      maxSilence: registerGauge(r, specs.maxSilence),
      healthy: registerGauge(r, specs.healthy),
      linesRead: registerCounter(r, specs.linesRead),
      linesUnparsed: registerCounter(r, specs.linesUnparsed),
      fragments: registerCounter(r, specs.fragments),
      linesTruncated: registerCounter(r, specs.linesTruncated),
      lag: registerGauge(r, specs.lag),
      gaps: registerCounter(r, specs.gaps),
      topSignatures: registerGauge(r, specs.topSignatures),
    };
  }

  async start(context: () => CollectorContext): Promise<void> {
    this.started = true;
    this.reconcile(context().policy.ids);
  }

  policyChanged(ctx: CollectorContext): void {
    if (this.started) this.reconcile(ctx.policy.ids);
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.followed.stop();
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    const policy = ctx.policy.ids;
    const specsNow = resolveIdsSources(policy, this.env.paths.rootfs);
    if (this.started) await this.followed.catchUp(Date.now() + catchUpMs);
    const now = Date.now();
    const states = specsNow.map((spec) => this.observe(spec));
    this.exportSources(specsNow, states);
    if (this.started) {
      this.exportCounts(specsNow, policy);
      // As for auth: positions saved exactly with the counts this collection exposes.
      this.followed.checkpoint();
    }
    return { findings: idsFindings(states, now) };
  }

  /** Follow the sources the policy names now, each kept by identity across reloads. */
  private reconcile(policy: IdsPolicy | undefined): void {
    this.pipeline.recent.perSignatureCap = policy && policy.top_signatures > 0 ? Math.max(32, 4 * policy.top_signatures) : 0;
    this.maxLineBytes = policy?.max_event_bytes ?? 1024 * 1024;
    const wanted = resolveIdsSources(policy, this.env.paths.rootfs);
    this.followed.reconcile(wanted);
    if (wanted.length > 0) this.env.log.info('following IDS outputs', { sources: wanted.map((s) => `${s.tool}:${s.id}`).join(',') });
  }

  private follow(spec: IdsSourceSpec): FileFollower {
    const follower = new FileFollower({
      path: spec.path,
      stateFile: idsPositionFile(this.env.paths.stateDir, spec),
      startAt: spec.startAt,
      maxLineBytes: this.maxLineBytes,
      persistMode: 'checkpoint',
      log: this.env.log.with({ source: spec.id }),
      onLines: (lines) => this.pipeline.lines(spec.id, spec.tool, lines),
    });
    follower.start();
    return follower;
  }

  private followerOf(spec: IdsSourceSpec): FileFollower | undefined {
    return this.followed.readerOf(spec);
  }

  /** The state judged: the follower's health in `serve`, a look at the file in `check`. */
  private observe(spec: IdsSourceSpec): IdsSourceState {
    const look = lookAtFile(spec.path);
    const follower = this.followerOf(spec);
    const status = follower?.status();
    return {
      id: spec.id,
      tool: spec.tool,
      health: status?.health ?? look.health,
      reason: status?.reason ?? look.reason,
      modifiedAt: look.modifiedAt,
      maxSilenceSeconds: spec.maxSilenceSeconds,
      recent: follower ? this.pipeline.recent.lastFiveMinutes(spec.id) : undefined,
    };
  }

  private exportSources(sources: readonly IdsSourceSpec[], states: readonly IdsSourceState[]): void {
    for (const gauge of [this.m.healthy, this.m.lastWrite, this.m.maxSilence, this.m.lastAlert, this.m.lag] as Gauge<string>[])
      gauge.reset();
    sources.forEach((spec, i) => {
      const state = states[i]!;
      const labels = { source: spec.id, tool: spec.tool };
      this.m.healthy.set(labels, state.health === 'ok' ? 1 : 0);
      this.m.lastWrite.set(labels, state.modifiedAt === undefined ? 0 : state.modifiedAt / 1000);
      this.m.maxSilence.set(labels, spec.maxSilenceSeconds);
    });
  }

  private exportCounts(sources: readonly IdsSourceSpec[], policy: IdsPolicy | undefined): void {
    const newest = new Map<string, number>();
    for (const spec of sources) {
      const counts = this.pipeline.source(spec.id, spec.tool);
      const follower = this.followerOf(spec);
      for (const row of counts.alertRows())
        this.counters.sync(
          this.m.alerts,
          { source: spec.id, tool: spec.tool, alert_severity: row.severity, category: row.category },
          row.value,
        );
      this.counters.sync(this.m.linesRead, { source: spec.id }, counts.linesRead);
      for (const reason of unparsedReasons) this.counters.sync(this.m.linesUnparsed, { source: spec.id, reason }, counts.unparsed[reason]);
      this.counters.sync(this.m.fragments, { source: spec.id }, counts.fragments);
      this.counters.sync(this.m.linesTruncated, { source: spec.id }, follower?.stats.truncatedLines ?? 0);
      this.counters.sync(this.m.gaps, { source: spec.id }, follower?.stats.gaps ?? 0);
      if (follower) this.m.lag.set({ source: spec.id }, follower.status().lagBytes);
      if (counts.lastAlertAt !== undefined) newest.set(spec.id, counts.lastAlertAt);
    }
    const failed = this.lastAlerts.update(newest);
    if (failed) this.env.log.error('cannot save the time of the last IDS alert', { err: failed.message });
    for (const spec of sources) this.m.lastAlert.set({ source: spec.id, tool: spec.tool }, (this.lastAlerts.get(spec.id) ?? 0) / 1000);
    this.m.topSignatures.reset();
    const topN = policy?.top_signatures ?? 0;
    for (const top of topN > 0 ? this.pipeline.recent.topSignatures(topN) : []) {
      this.m.topSignatures.set({ tool: top.tool, signature_id: top.signatureId, signature: labelValue(top.signature) }, top.alerts);
    }
  }
}

export const idsCollector: CollectorDefinition = {
  ...collectorCatalog.ids,
  create: (env) => new IdsCollector(env),
};

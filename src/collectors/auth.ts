import { authFindings, type SourceHealth } from '../auth/judge.js';
import { authKinds } from '../auth/kinds.js';
import { TamperingLog, tamperKinds } from '../auth/log-tampering.js';
import { kindNames } from '../findings/kinds.js';
import { authServices, failureLabelPairs, successLabelPairs } from '../auth/patterns.js';
import { AuthPipeline } from '../auth/pipeline.js';
import { startSource, type RunningSource } from '../auth/running-source.js';
import { authIdentity, hostProbe, probeSource, resolveSources, type AuthSourceSpec } from '../auth/sources.js';
import { UserClassCache } from '../auth/user-classes.js';
import type { Logger } from '../log/logger.js';
import { authMetricSpecs as specs } from '../metrics/auth.js';
import { CounterSync } from '../metrics/counter-sync.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import { FollowedSources } from '../tail/followed-sources.js';
import { UserDirectory, userClasses } from '../rootfs/users.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';
import { collectorCatalog } from './catalog.js';

/** How long a collection waits for the files to be read up to their end before reporting. */
const catchUpMs = 2000;

/**
 * Authentication failures and logins from auth.log/secure or the journal. In `serve` the sources
 * are followed in the background from `start`; a collection first reads what is already written,
 * so a burst of failures shows on the next scrape. Without `start` (`check`), nothing is read —
 * positions belong to the running exporter, and thresholds to the alert rules — and only whether
 * each source can be read is reported.
 */
class AuthCollector implements Collector {
  readonly name = 'auth';
  readonly findingKinds = kindNames(authKinds);
  private readonly pipeline: AuthPipeline;
  private readonly tampering = new TamperingLog();
  private readonly sources: FollowedSources<AuthSourceSpec, RunningSource>;
  private started = false;
  private readonly counters = new CounterSync();
  private readonly m;

  constructor(private readonly env: CollectorEnv) {
    const users = new UserClassCache(new UserDirectory(env.paths.rootfs));
    this.pipeline = new AuthPipeline((name) => users.classOf(name));
    this.sources = new FollowedSources({
      identity: authIdentity,
      start: (spec) => startSource(spec, this.pipeline, this.tampering, env.paths, sourceLog(env.log, spec)),
      update: (source, spec) => source.reconfigure(spec),
    });
    const r = env.registry;
    this.m = {
      failures: registerCounter(r, specs.failures),
      successes: registerCounter(r, specs.successes),
      messages: registerCounter(r, specs.messages),
      guessedLogins: registerCounter(r, specs.guessedLogins),
      tampering: registerCounter(r, specs.tampering),
      failingSources: registerGauge(r, specs.failingSources),
      topSources: registerGauge(r, specs.topSourceFailures),
      sshRootLoginAllowed: registerGauge(r, specs.sshRootLoginAllowed),
      linesRead: registerCounter(r, specs.linesRead),
      linesUnparsed: registerCounter(r, specs.linesUnparsed),
      linesTruncated: registerCounter(r, specs.linesTruncated),
      position: registerGauge(r, specs.position),
      lag: registerGauge(r, specs.lag),
      lastLine: registerGauge(r, specs.lastLine),
      rotations: registerCounter(r, specs.rotations),
      gaps: registerCounter(r, specs.gaps),
      readErrors: registerCounter(r, specs.readErrors),
      restarts: registerCounter(r, specs.restarts),
      healthy: registerGauge(r, specs.healthy),
    };
    for (const user_class of userClasses) {
      for (const pair of failureLabelPairs()) this.m.failures.inc({ ...pair, user_class }, 0);
      for (const pair of successLabelPairs()) this.m.successes.inc({ ...pair, user_class }, 0);
    }
    for (const service of authServices) this.m.guessedLogins.inc({ service }, 0);
  }

  async start(context: () => CollectorContext): Promise<void> {
    this.started = true;
    this.reconcile(context());
  }

  policyChanged(ctx: CollectorContext): void {
    if (this.started) this.reconcile(ctx);
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.sources.stop();
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    this.m.sshRootLoginAllowed.set(ctx.policy.auth.ssh_root_login === 'allow' ? 1 : 0);
    if (!this.started) return { findings: this.probe(ctx) };
    await this.sources.catchUp(Date.now() + catchUpMs);
    for (const { reader } of this.sources.entries()) reader.checkTampering();
    const health = this.exportSources();
    this.exportCounts(ctx.policy.auth.top_sources);
    // Positions are saved exactly with the counts they produced: what this scrape exposes is never
    // counted again after a crash or restart, and what it does not expose is read again.
    this.sources.checkpoint();
    const shownFor = ctx.policy.auth.findings_for;
    return {
      findings: authFindings({
        sources: health,
        recent: this.pipeline.recent.summary(),
        guessedLogins: this.pipeline.guessedLogins(shownFor),
        tamperings: this.tampering.recent(shownFor),
      }),
    };
  }

  /** Follow the sources the policy (or the host) names now, each kept by identity across reloads. */
  private reconcile(ctx: CollectorContext): void {
    // Addresses kept per 30-second bucket for the opt-in top-N: a few times N, so the top is right.
    this.pipeline.recent.perSourceCap = ctx.policy.auth.top_sources > 0 ? Math.max(32, 4 * ctx.policy.auth.top_sources) : 0;
    const { failures, window } = ctx.policy.auth.success_after_failures;
    this.pipeline.history.configure({ failures, windowMs: window });
    const wanted = resolveSources(ctx.policy.auth, this.env.paths.rootfs, hostProbe(this.env.paths.rootfs));
    this.sources.reconcile(wanted);
    if (wanted.length === 0)
      this.env.log.warn(
        'no auth log source: no /var/log/auth.log or /var/log/secure, and no journal; configure auth.sources to count authentication failures',
      );
    else this.env.log.info('following auth sources', { sources: wanted.map((s) => s.id).join(',') });
  }

  /** `check`: whether each source could be read, without reading (or moving) anything. */
  private probe(ctx: CollectorContext): ReturnType<typeof authFindings> {
    const health: SourceHealth[] = resolveSources(ctx.policy.auth, this.env.paths.rootfs, hostProbe(this.env.paths.rootfs)).map((spec) => {
      const probe = probeSource(spec);
      return probe.ok
        ? { id: spec.id, type: spec.type, health: 'ok', reason: undefined }
        : { id: spec.id, type: spec.type, health: probe.health, reason: probe.reason };
    });
    this.m.healthy.reset();
    for (const h of health) this.m.healthy.set({ source: h.id, type: h.type }, h.health === 'ok' ? 1 : 0);
    return authFindings({ sources: health });
  }

  private exportSources(): SourceHealth[] {
    const health: SourceHealth[] = [];
    for (const gauge of [this.m.healthy, this.m.position, this.m.lag, this.m.lastLine]) gauge.reset();
    for (const { spec, reader: source } of this.sources.entries()) {
      const { id, type } = spec;
      const status = source.status();
      const counters = source.counters();
      health.push({ id, type, health: status.health, reason: status.reason });
      this.m.healthy.set({ source: id, type }, status.health === 'ok' ? 1 : 0);
      this.m.lastLine.set({ source: id }, status.lastLineAt === undefined ? 0 : status.lastLineAt / 1000);
      if (status.position !== undefined) this.m.position.set({ source: id }, status.position);
      if (status.lagBytes !== undefined && type === 'file') this.m.lag.set({ source: id }, status.lagBytes);
      // Kept by the follower: one a reload drops and a later one brings back counts from zero again.
      this.counters.sync(this.m.linesRead, { source: id }, counters.linesRead, source);
      this.counters.sync(this.m.linesTruncated, { source: id }, counters.truncatedLines, source);
      this.counters.sync(this.m.gaps, { source: id }, counters.gaps, source);
      this.counters.sync(this.m.readErrors, { source: id }, counters.readErrors, source);
      if (type === 'file') {
        this.counters.sync(this.m.rotations, { source: id, kind: 'rename' }, counters.renameRotations, source);
        this.counters.sync(this.m.rotations, { source: id, kind: 'truncate' }, counters.truncations, source);
      } else this.counters.sync(this.m.restarts, { source: id }, counters.restarts, source);
      for (const kind of tamperKinds) {
        if ((kind === 'journal_removed') === (type === 'journald'))
          this.counters.sync(this.m.tampering, { source: id, kind }, this.tampering.count(id, kind));
      }
      const unparsed = this.pipeline.source(id).unparsed;
      this.counters.sync(
        this.m.linesUnparsed,
        { source: id, reason: type === 'file' ? 'not_syslog' : 'not_json' },
        type === 'file' ? unparsed.not_syslog : unparsed.not_json,
      );
    }
    return health;
  }

  private exportCounts(topN: number): void {
    for (const row of this.pipeline.failureRows()) this.counters.sync(this.m.failures, row.labels, row.value);
    for (const row of this.pipeline.successRows()) this.counters.sync(this.m.successes, row.labels, row.value);
    for (const row of this.pipeline.messageRows()) this.counters.sync(this.m.messages, row.labels, row.value);
    for (const row of this.pipeline.guessedRows()) this.counters.sync(this.m.guessedLogins, row.labels, row.value);
    const recent = this.pipeline.recent.summary();
    this.m.failingSources.set({ window: '5m' }, recent.distinctSources5m);
    this.m.failingSources.set({ window: '15m' }, recent.distinctSources15m);
    this.m.topSources.reset();
    for (const top of topN > 0 ? this.pipeline.recent.topSources(topN) : []) this.m.topSources.set({ address: top.address }, top.failures);
  }
}

function sourceLog(log: Logger, spec: AuthSourceSpec): Logger {
  return log.with({ source: spec.id });
}

export const authCollector: CollectorDefinition = {
  ...collectorCatalog.auth,
  create: (env) => new AuthCollector(env),
};

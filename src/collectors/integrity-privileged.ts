import type { Gauge } from 'prom-client';
import type { BaselineEntries } from '../baseline/baseline.js';
import type { Finding } from '../findings/finding.js';
import type { DpkgReader } from '../integrity/dpkg.js';
import type { IsolatedFs } from '../isolated/isolated-fs.js';
import { judgePrivileged, privilegeAttributes, privilegesOf } from '../integrity/judge-privileged.js';
import {
  hasPrivilegedEntries,
  privilegedBaselineEntries,
  privilegedBaselineEntry,
  PrivilegedSearchRecord,
} from '../integrity/privileged-record.js';
import { capabilityStates, searchPrivilegedFiles, type PrivilegedObservation } from '../integrity/privileged-search.js';
import type { Logger } from '../log/logger.js';
import { integrityPrivilegedMetricSpecs as specs } from '../metrics/integrity-privileged.js';
import { registerGauge } from '../metrics/spec.js';
import { scheduleIntervalSeconds, scheduleWork, type Schedule } from '../scheduler/schedule.js';
import type { CollectorContext, CollectorEnv } from './collector.js';

const none: readonly Finding[] = [];

/**
 * The integrity collector's search for setuid, setgid and capability files on the local file
 * systems (integrity.privileged_files): on its own schedule in `serve` (hourly, and at start),
 * learned into the baseline with the watched files, and in `check` taken from the last search in
 * the state directory while it is within the schedule's interval.
 */
export class PrivilegedFilesSearch {
  private latest: PrivilegedObservation | undefined;
  private published: PrivilegedObservation | undefined;
  private readonly record: PrivilegedSearchRecord;
  private schedule: Schedule | undefined;
  private scheduleFor = '';
  private readonly abort = new AbortController();
  private judged:
    { observation: PrivilegedObservation; section: BaselineEntries | undefined; watchedKey: unknown; findings: Finding[] } | undefined;
  private warnedNoEntries = false;
  private readonly metrics: {
    files: Gauge<'privilege'>;
    lastEnd: Gauge;
    interval: Gauge;
    duration: Gauge;
    entries: Gauge;
    unreadable: Gauge;
    capabilities: Gauge<'state'>;
  };

  constructor(
    env: CollectorEnv,
    private readonly dpkg: (rootfs: string) => DpkgReader,
    private readonly log: Logger,
    private readonly fs: IsolatedFs,
  ) {
    this.record = new PrivilegedSearchRecord(env.paths.stateDir);
    const r = env.registry;
    this.metrics = {
      files: registerGauge(r, specs.files),
      lastEnd: registerGauge(r, specs.lastEnd),
      interval: registerGauge(r, specs.interval),
      duration: registerGauge(r, specs.duration),
      entries: registerGauge(r, specs.entries),
      unreadable: registerGauge(r, specs.unreadable),
      capabilities: registerGauge(r, specs.capabilities),
    };
    for (const privilege of privilegeAttributes) this.metrics.files.set({ privilege }, 0);
    for (const state of capabilityStates) this.metrics.capabilities.set({ state }, 0);
    this.metrics.lastEnd.set(0);
    this.metrics.interval.set(0);
    this.metrics.duration.set(0);
    this.metrics.entries.set(0);
    this.metrics.unreadable.set(0);
  }

  /** `serve`: on the schedule, and at start unless a search within the interval is on record. */
  start(context: () => CollectorContext): void {
    this.reschedule(context(), context);
  }

  policyChanged(ctx: CollectorContext, context: () => CollectorContext): void {
    this.reschedule(ctx, context);
  }

  stop(): void {
    this.abort.abort();
    this.schedule?.stop();
  }

  /** `check` (no schedule): the last search on disk while it is within the schedule's interval, else a search now. */
  async ensureSearched(ctx: CollectorContext): Promise<void> {
    const policy = ctx.policy.integrity.privileged_files;
    if (this.schedule || !policy.enabled) return;
    this.metrics.interval.set(scheduleIntervalSeconds(policy.schedule));
    const stored = this.latest ?? this.record.read();
    if (stored && Date.now() - stored.finishedAt < scheduleIntervalSeconds(policy.schedule) * 1000) this.observed(stored);
    else await this.search(ctx, policy.max_entries_per_second);
  }

  /** What `baseline init`/`update` record: every privileged file, searched without a rate limit (an operator is waiting). */
  async learn(ctx: CollectorContext): Promise<BaselineEntries> {
    if (!ctx.policy.integrity.privileged_files.enabled) return {};
    const observation = await this.search(ctx, 0);
    return privilegedBaselineEntries(observation.files);
  }

  /** The findings of the last search against the baseline's integrity section (the same array while nothing changed). */
  findings(
    ctx: CollectorContext,
    section: BaselineEntries | undefined,
    watched: (path: string) => boolean,
    watchedKey: unknown,
  ): readonly Finding[] {
    const observation = this.latest;
    if (!observation || !ctx.policy.integrity.privileged_files.enabled) return none;
    this.publish(observation);
    const judged = this.judged;
    if (judged && judged.observation === observation && judged.section === section && judged.watchedKey === watchedKey)
      return judged.findings;
    const usable = section !== undefined && hasPrivilegedEntries(section) ? section : undefined;
    if (section !== undefined && !usable && !this.warnedNoEntries) {
      this.warnedNoEntries = true;
      this.log.warn(
        'the baseline holds no privileged files (learned before the search existed): judged by the package database until `baseline update`',
      );
    }
    const packages = ctx.policy.integrity.package_database
      ? this.dpkg(ctx.paths.rootfs).read(new Set(observation.files.map((f) => f.path)))
      : undefined;
    const findings = judgePrivileged({
      files: observation.files,
      baseline: usable ? (path) => privilegedBaselineEntry(usable, path) : undefined,
      packages,
      watched,
    });
    this.judged = { observation, section, watchedKey, findings };
    return findings;
  }

  private reschedule(ctx: CollectorContext, context: () => CollectorContext): void {
    const policy = ctx.policy.integrity.privileged_files;
    if (!policy.enabled) {
      this.schedule?.stop();
      this.schedule = undefined;
      this.scheduleFor = '';
      this.metrics.interval.set(0);
      return;
    }
    this.metrics.interval.set(scheduleIntervalSeconds(policy.schedule));
    if (this.schedule) {
      if (policy.schedule !== this.scheduleFor) this.schedule.reschedule(policy.schedule);
      this.scheduleFor = policy.schedule;
      return;
    }
    this.scheduleFor = policy.schedule;
    this.schedule = scheduleWork('integrity-privileged', policy.schedule, () => this.scheduled(context), this.log);
    // A search within the interval (learning just now, or the last run's on record) is not repeated at start.
    const last = this.latest ?? this.record.read();
    if (last && Date.now() - last.finishedAt < scheduleIntervalSeconds(policy.schedule) * 1000) this.observed(last);
    else void this.schedule.runNow();
  }

  private async scheduled(context: () => CollectorContext): Promise<void> {
    const ctx = context();
    try {
      await this.search(ctx, ctx.policy.integrity.privileged_files.max_entries_per_second);
    } catch (error) {
      if (this.abort.signal.aborted) return;
      throw error;
    }
  }

  private async search(ctx: CollectorContext, maxEntriesPerSecond: number): Promise<PrivilegedObservation> {
    const policy = ctx.policy.integrity.privileged_files;
    const observation = await searchPrivilegedFiles({
      rootfs: ctx.paths.rootfs,
      procfs: ctx.paths.procfs,
      exclude: policy.exclude,
      capabilities: policy.capabilities,
      maxEntriesPerSecond,
      signal: this.abort.signal,
      hash: (jobs) => this.fs.hashImages(jobs),
    });
    this.observed(observation);
    if (!this.record.write(observation)) this.log.debug('cannot record the privileged-file search', { file: this.record.path });
    if (observation.unreadableDirs > 0)
      this.log.warn('privileged-file search could not list every directory', {
        count: observation.unreadableDirs,
        examples: observation.examples.join('; '),
      });
    if (observation.capabilities === 'unavailable')
      this.log.warn('no getcap on this host (Debian package libcap2-bin): file capabilities are not searched');
    this.log.debug('privileged-file search finished', {
      files: observation.files.length,
      entries: observation.entries,
      mounts: observation.mountPoints.join(' '),
      read_through: observation.readThrough,
      seconds: (observation.finishedAt - observation.startedAt) / 1000,
    });
    return observation;
  }

  /** Judged at the next collection, which also publishes it: its gauges and its findings come out in the same scrape. */
  private observed(observation: PrivilegedObservation): void {
    this.latest = observation;
  }

  private publish(observation: PrivilegedObservation): void {
    if (this.published === observation) return;
    this.published = observation;
    const m = this.metrics;
    for (const privilege of privilegeAttributes) {
      m.files.set(
        { privilege },
        observation.files.filter((f) => privilegesOf({ mode: f.state.mode, capability: f.capability }).includes(privilege)).length,
      );
    }
    m.lastEnd.set(observation.finishedAt / 1000);
    m.duration.set((observation.finishedAt - observation.startedAt) / 1000);
    m.entries.set(observation.entries);
    m.unreadable.set(observation.unreadableDirs);
    for (const state of capabilityStates) m.capabilities.set({ state }, state === observation.capabilities ? 1 : 0);
  }
}

import type { CollectorEnv } from './collector.js';
import { processesMetricSpecs as specs } from '../metrics/processes.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import type { DetailedSnapshot } from '../procfs/process-reader.js';
import { hiddenViews, type HiddenProcess } from '../processes/hidden.js';
import type { SweepResult } from '../processes/hidden-sweep.js';
import { startVerdicts, type StartVerdict } from '../processes/judge.js';
import type { VerdictSummary } from '../processes/verdict-summary.js';

/** Output: the collector's metrics, set from verdicts and sweep results. Reads nothing else. */
export class ProcessMetrics {
  private readonly examined;
  private readonly unjudged;
  private readonly identityUnjudged;
  private readonly outdated;
  private readonly readRaces;
  private readonly readErrors;
  private readonly flagged;
  private readonly flaggedCpu;
  private readonly flaggedResident;
  private readonly starts;
  private readonly startWatchInterval;
  private readonly hidden;
  private readonly sweepTimestamp;
  private readonly sweepDuration;
  private readonly sweepSuccess;
  private readonly packagePaths;

  constructor(env: CollectorEnv) {
    const r = env.registry;
    this.examined = registerGauge(r, specs.examined);
    this.unjudged = registerGauge(r, specs.unjudged);
    this.identityUnjudged = registerGauge(r, specs.identityUnjudged);
    this.outdated = registerGauge(r, specs.outdated);
    this.readRaces = registerCounter(r, specs.readRaces);
    this.readErrors = registerCounter(r, specs.readErrors);
    this.flagged = env.cappedSeries(specs.flagged);
    this.flaggedCpu = env.cappedSeries(specs.flaggedCpu);
    this.flaggedResident = env.cappedSeries(specs.flaggedResident);
    this.starts = registerCounter(r, specs.starts);
    this.startWatchInterval = registerGauge(r, specs.startWatchInterval);
    this.hidden = registerGauge(r, specs.hidden);
    this.sweepTimestamp = registerGauge(r, specs.hiddenSweepTimestamp);
    this.sweepDuration = registerGauge(r, specs.hiddenSweepDuration);
    this.sweepSuccess = registerGauge(r, specs.hiddenSweepSuccess);
    this.packagePaths = registerGauge(r, specs.packagePaths);
    // Every series that can exist is present from the start, at 0: a missing series is not a zero.
    this.readRaces.inc(0);
    for (const reason of ['permission_denied', 'malformed'] as const) this.readErrors.inc({ reason }, 0);
    for (const verdict of startVerdicts) this.starts.inc({ verdict }, 0);
    for (const view of hiddenViews) this.hidden.set({ view }, 0);
    this.startWatchInterval.set(0);
    this.sweepTimestamp.set(0);
    this.sweepDuration.set(0);
    this.sweepSuccess.set(1);
  }

  /** `moreFlagged`: rows of the flagged scripts, loaded programs and injected libraries. */
  recordCollection(
    snapshot: DetailedSnapshot,
    summary: VerdictSummary,
    packagePaths: number,
    moreFlagged: readonly { labels: Readonly<Record<'exe' | 'user_class' | 'kind', string>>; value: number }[] = [],
  ): void {
    this.examined.set({ type: 'userland' }, summary.userland);
    this.examined.set({ type: 'kernel_thread' }, summary.kernelThreads);
    for (const [reason, count] of Object.entries(summary.unjudged)) this.unjudged.set({ reason }, count);
    this.identityUnjudged.set({ reason: 'other_root' }, summary.inContainers);
    this.outdated.set(summary.outdated);
    this.readRaces.inc(snapshot.races);
    this.readErrors.inc({ reason: 'permission_denied' }, snapshot.denied);
    this.readErrors.inc({ reason: 'malformed' }, snapshot.malformed);
    this.flagged.replace([...summary.flaggedRows, ...moreFlagged]);
    this.flaggedCpu.replace(summary.cpuRows);
    this.flaggedResident.replace(summary.residentRows);
    this.packagePaths.set(packagePaths);
  }

  /** The hidden processes still alive, from the last sweep (which may be older than this collection). */
  recordHidden(current: readonly HiddenProcess[], sweep: SweepResult | undefined, sweepFailed: boolean): void {
    for (const view of hiddenViews) {
      if (view === 'ps' && sweep && !sweep.psCompared) this.hidden.remove({ view });
      else this.hidden.set({ view }, current.filter((h) => h.view === view).length);
    }
    if (sweep) {
      this.sweepTimestamp.set(sweep.at.getTime() / 1000);
      this.sweepDuration.set(sweep.durationSeconds);
    }
    this.sweepSuccess.set(sweepFailed ? 0 : 1);
  }

  countStart(verdict: StartVerdict): void {
    this.starts.inc({ verdict });
  }

  recordStartWatch(intervalSeconds: number | undefined): void {
    this.startWatchInterval.set(intervalSeconds ?? 0);
  }
}

import { join } from 'node:path';
import type { BaselineEntries } from '../baseline/baseline.js';
import { auditBaselineOf, judgeAudit, learnAudit, newWarnings } from '../audit/judge.js';
import { auditKinds } from '../audit/kinds.js';
import { kindNames } from '../findings/kinds.js';
import { LynisRunner, lynisRunResults } from '../audit/lynis-runner.js';
import { reportReadResults } from '../audit/lynis-report.js';
import { ReportReader } from '../audit/report-reader.js';
import type { AuditPolicy } from '../config/sections/audit.js';
import { auditMetricSpecs as specs } from '../metrics/audit.js';
import { CounterSync } from '../metrics/counter-sync.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import { scheduleWork, type Schedule } from '../scheduler/schedule.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';
import { collectorCatalog } from './catalog.js';

/**
 * Security audits as metrics: the report of a scheduled Lynis run (`audit.lynis_report`), judged
 * against the baseline (hardening index, warnings) and the policy (report age). With `audit.run`
 * the exporter runs Lynis itself on that schedule, in `serve` only and never on a scrape. Without
 * an `audit` section it does nothing.
 */
class AuditCollector implements Collector {
  readonly name = 'audit';
  readonly findingKinds = kindNames(auditKinds);
  private reader: ReportReader | undefined;
  private readonly runner: LynisRunner;
  private schedule: Schedule | undefined;
  private started = false;
  private readonly counters = new CounterSync();
  private readonly runs = Object.fromEntries(lynisRunResults.map((r) => [r, 0])) as Record<(typeof lynisRunResults)[number], number>;
  private lastRunSeconds: number | undefined;
  private readonly m;

  constructor(private readonly env: CollectorEnv) {
    this.runner = new LynisRunner(env.log);
    const r = env.registry;
    this.m = {
      hardeningIndex: registerGauge(r, specs.hardeningIndex),
      baselineHardeningIndex: registerGauge(r, specs.baselineHardeningIndex),
      warnings: registerGauge(r, specs.warnings),
      suggestions: registerGauge(r, specs.suggestions),
      newWarning: env.cappedSeries(specs.newWarning),
      reportTimestamp: registerGauge(r, specs.reportTimestamp),
      maxReportAge: registerGauge(r, specs.maxReportAge),
      reportReads: registerCounter(r, specs.reportReads),
      lynisRuns: registerCounter(r, specs.lynisRuns),
      lynisDuration: registerGauge(r, specs.lynisDuration),
      lynisStalePidFiles: registerCounter(r, specs.lynisStalePidFiles),
    };
  }

  async start(context: () => CollectorContext): Promise<void> {
    this.started = true;
    this.reconcileSchedule(context);
  }

  policyChanged(ctx: CollectorContext): void {
    if (this.started) this.reconcileSchedule(() => ctx);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.schedule?.stop();
    this.schedule = undefined;
    await this.runner.stop();
  }

  async learn(ctx: CollectorContext): Promise<BaselineEntries> {
    const policy = ctx.policy.audit;
    return policy ? learnAudit(this.readerFor(policy).read().held) : {};
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    const policy = ctx.policy.audit;
    for (const gauge of [
      this.m.hardeningIndex,
      this.m.baselineHardeningIndex,
      this.m.warnings,
      this.m.suggestions,
      this.m.reportTimestamp,
      this.m.maxReportAge,
    ])
      gauge.reset();
    if (!policy) {
      this.m.newWarning.replace([]);
      this.m.lynisDuration.remove();
      // An unlabelled counter shows 0 from its registration: without the section it is absent, as the others are.
      this.counters.forget(this.m.lynisStalePidFiles);
      return { findings: [] };
    }
    const reader = this.readerFor(policy);
    const state = reader.read();
    const baseline = auditBaselineOf(ctx.baseline?.[this.name]);
    const report = state.held;
    const labels = { report: policy.lynis_report };
    this.m.maxReportAge.set(labels, policy.max_report_age);
    this.m.reportTimestamp.set(labels, report?.endedAt === undefined ? 0 : report.endedAt / 1000);
    if (baseline?.hardeningIndex !== undefined) this.m.baselineHardeningIndex.set(labels, baseline.hardeningIndex);
    if (report) {
      if (report.hardeningIndex !== undefined) this.m.hardeningIndex.set(labels, report.hardeningIndex);
      this.m.warnings.set(labels, report.warnings.length);
      this.m.suggestions.set(labels, report.suggestions);
    }
    this.m.newWarning.replace(
      report ? [...newWarnings(report, baseline, policy)].map(([test, w]) => ({ labels: { test }, value: w.count })) : [],
    );
    for (const result of reportReadResults) this.counters.sync(this.m.reportReads, { result }, reader.reads[result]);
    for (const result of lynisRunResults) this.counters.sync(this.m.lynisRuns, { result }, this.runs[result]);
    this.counters.sync(this.m.lynisStalePidFiles, {}, this.runner.stalePidFilesRemoved);
    this.m.lynisDuration.set(this.lastRunSeconds ?? 0);
    return { findings: judgeAudit(state, baseline, policy, Date.now()) };
  }

  private readerFor(policy: AuditPolicy): ReportReader {
    const path = join(this.env.paths.rootfs, policy.lynis_report);
    if (this.reader) this.reader.setPath(path);
    else this.reader = new ReportReader(path);
    return this.reader;
  }

  /** Run Lynis on the policy's schedule, reschedule after a reload, stop when the policy no longer asks. */
  private reconcileSchedule(context: () => CollectorContext): void {
    const run = context().policy.audit?.run;
    if (!run) {
      this.schedule?.stop();
      this.schedule = undefined;
      return;
    }
    if (this.schedule) {
      this.schedule.reschedule(run.schedule);
      return;
    }
    this.schedule = scheduleWork('lynis', run.schedule, () => this.runLynis(context), this.env.log);
    this.env.log.info('Lynis audits scheduled', { schedule: run.schedule });
  }

  private async runLynis(context: () => CollectorContext): Promise<void> {
    const policy = context().policy.audit;
    if (!policy?.run || !this.started) return;
    const outcome = await this.runner.run(policy.run, join(this.env.paths.rootfs, policy.lynis_report));
    if (!this.started) return;
    this.runs[outcome.result]++;
    if (outcome.result !== 'not_installed' && outcome.result !== 'busy') this.lastRunSeconds = outcome.seconds;
  }
}

export const auditCollector: CollectorDefinition = {
  ...collectorCatalog.audit,
  create: (env) => new AuditCollector(env),
};

import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Counter, Gauge } from 'prom-client';
import type { BaselineSections } from '../baseline/baseline.js';
import type { ExecEventsPolicy, ProcessesPolicy } from '../config/sections/processes.js';
import { formatDurationMs } from '../config/duration.js';
import type { Finding } from '../findings/finding.js';
import { readKernelAudit } from '../kaudit/auditctl.js';
import { controlChangesOf } from '../kaudit/control-event.js';
import { execFromEvent, type ExecEvent } from '../kaudit/exec-event.js';
import { everyEvent, probeAuditLog, type AuditLogReader } from '../kaudit/log-reader.js';
import { CounterSync } from '../metrics/counter-sync.js';
import { processesMetricSpecs as specs } from '../metrics/processes.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import { ExecAuditing, auditingOffReasons } from '../processes/exec-auditing.js';
import { ExecObserver } from '../processes/exec-observer.js';
import { FlaggedExecs } from '../processes/flagged-execs.js';
import { compileInterpreters } from '../processes/interpreters.js';
import { judgeContext } from '../processes/judge.js';
import { execSourceFindings, flaggedExecFindings, judgeExec, type FlaggedExecRow } from '../processes/judge-execs.js';
import { programContext } from '../processes/judge-programs.js';
import type { OwnScripts } from '../processes/programs.js';
import type { HostObserver } from '../processes/observe.js';
import type { ProcessBaseline } from '../processes/process-baseline.js';
import { compileProcessPolicy } from '../processes/process-policy.js';
import { dpkgLastChange } from '../processes/package-index.js';
import { runnerName } from '../processes/what-runs.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import type { FollowHealth } from '../tail/health.js';
import { sharedAuditLog, type SharedAuditLog } from './audit-log-shared.js';
import type { CollectorContext, CollectorEnv } from './collector.js';

/** How long a collection waits for the audit log to be read to its end. */
const catchUpMs = 2000;
/** The kernel is asked (auditctl -s, -l) at most this often. */
const kernelPollMs = 10_000;

export interface ExecCollection {
  readonly findings: readonly Finding[];
  readonly flaggedRows: readonly FlaggedExecRow[];
}

/**
 * The exec source of the processes collector (processes.exec_events): the kernel audit log
 * followed in `serve`, each exec judged as it is read (the process may still be there to look
 * at), flagged execs held for `hold`, and the source's own health. In `check`, nothing is followed
 * (the position belongs to the running exporter): the log is probed and the kernel asked.
 */
export class ExecEventsSource {
  private reader: AuditLogReader | undefined;
  /** The audit log, followed once for this collector and the integrity collector's who-data. */
  private readonly auditLog: SharedAuditLog;
  private unsubscribe: (() => void) | undefined;
  private policy: ExecEventsPolicy | undefined;
  private readonly held = new FlaggedExecs();
  private readonly auditing: ExecAuditing;
  private readonly execObserver: ExecObserver;
  private pending: ExecEvent[] = [];
  private processing: Promise<void> | undefined;
  private context: (() => CollectorContext) | undefined;
  private lastKernelPoll = 0;
  private kernelOk: boolean | undefined;
  private kernelLost: number | undefined;
  private reportedKernelProblem = false;
  private readonly counters = new CounterSync();
  private readonly heldFile: string;
  private readonly m: {
    events: Counter<'verdict'>;
    inline: Counter<'interpreter' | 'via'>;
    healthy: Gauge<'path'>;
    off: Gauge<'reason'>;
    records: Counter<string>;
    parseErrors: Counter<'reason'>;
    incomplete: Counter<string>;
    gaps: Counter<string>;
    lag: Gauge<'path'>;
    kernelStatus: Gauge<'path'>;
    kernelLost: Counter<string>;
  };

  constructor(
    private readonly env: CollectorEnv,
    private readonly observer: HostObserver,
    private readonly baselineOf: (sections: BaselineSections | undefined) => ProcessBaseline | undefined,
    ownScripts: OwnScripts,
  ) {
    this.execObserver = new ExecObserver(
      env.paths,
      observer.users,
      env.hostReads.processFiles,
      (pid, namespace) => observer.containers.identityOf(pid, namespace),
      ownScripts,
    );
    this.auditing = new ExecAuditing(() => this.policy?.rule_key ?? 'hostguard_exec');
    this.heldFile = join(env.paths.stateDir, 'processes', 'flagged-execs.json');
    this.auditLog = sharedAuditLog(env);
    const r = env.registry;
    this.m = {
      events: registerCounter(r, specs.execEvents),
      inline: registerCounter(r, specs.inlineCode),
      healthy: registerGauge(r, specs.execSourceHealthy),
      off: registerGauge(r, specs.execAuditingOff),
      records: registerCounter(r, specs.execRecords),
      parseErrors: registerCounter(r, specs.execParseErrors),
      incomplete: registerCounter(r, specs.execIncompleteEvents),
      gaps: registerCounter(r, specs.execGaps),
      lag: registerGauge(r, specs.execLag),
      kernelStatus: registerGauge(r, specs.kernelStatus),
      kernelLost: registerCounter(r, specs.kernelLost),
    };
  }

  /** The exec source is followed and sees execs: the watch of new PIDs then leaves inline code to it. */
  get coversExecs(): boolean {
    return this.reader !== undefined && this.reader.status().health === 'ok' && this.auditing.ongoing().length === 0;
  }

  /** `serve`: follow the log the policy names, from now on and after every reload. */
  start(context: () => CollectorContext): void {
    this.context = context;
    this.loadHeld();
    this.reconcile(context().policy.processes);
  }

  reconcile(section: ProcessesPolicy): void {
    const wanted = section.exec_events;
    const current = this.policy;
    this.policy = wanted;
    if (!this.context) return;
    if (this.reader && (!wanted || wanted.path !== current?.path)) {
      this.unsubscribe?.();
      void this.auditLog.release('processes', this.reader.path, { savePosition: true });
      this.reader = undefined;
    }
    if (!wanted || this.reader) return;
    this.reader = this.auditLog.use('processes', wanted);
    this.unsubscribe = this.reader.subscribe(everyEvent, (event) => {
      for (const change of controlChangesOf(event)) this.auditing.change(change);
      const exec = execFromEvent(event);
      if (!exec) return;
      this.auditing.execSeen(exec.timeMs, exec.keys);
      this.pending.push(exec);
      this.kick();
    });
  }

  async stop(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    this.context = undefined;
    await this.processing;
    this.unsubscribe?.();
    if (reader) await this.auditLog.release('processes', reader.path);
  }

  /** One collection: read to the end, judge what was read, ask the kernel; the findings and series of the source. */
  async collect(ctx: CollectorContext, runningFlagged: (pid: number, exe: string) => boolean): Promise<ExecCollection> {
    const policy = ctx.policy.processes.exec_events;
    if (!policy) {
      this.clearSeries();
      return { findings: [], flaggedRows: [] };
    }
    if (this.reader) {
      await this.reader.catchUp(Date.now() + catchUpMs);
      this.kick();
      await this.processing;
    }
    await this.pollKernel();
    const now = Date.now();
    const holdMs = policy.hold * 1000;
    const source = this.reader?.status() ?? probeAuditLog(policy.path);
    const periods = this.auditing.periods(now, holdMs);
    const held = flaggedExecFindings(this.held.current(now - holdMs), formatDurationMs(holdMs), runningFlagged);
    const findings = [
      ...execSourceFindings({ path: policy.path, health: source.health, reason: source.reason, offPeriods: periods }),
      ...held.findings,
    ];
    this.exportSource(
      policy.path,
      source.health,
      periods.map((p) => p.reason),
    );
    if (this.reader) {
      this.auditLog.checkpoint('processes', this.reader.path);
      this.saveHeld();
    }
    return { findings, flaggedRows: held.rows };
  }

  /** Count inline code seen by the watch of new PIDs, unless the exec source sees every exec. */
  countInline(runner: string, via: 'argument' | 'stdin'): void {
    this.m.inline.inc({ interpreter: runnerName(runner), via });
  }

  /** Judge what was read, in the background of the reading: the sooner, the more of each process is still there. */
  private kick(): void {
    if (this.processing || this.pending.length === 0 || !this.context) return;
    this.processing = this.processPending()
      .catch((error: unknown) => this.env.log.warn('judging execs failed', { err: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        this.processing = undefined;
        if (this.pending.length > 0) this.kick();
      });
  }

  private async processPending(): Promise<void> {
    while (this.pending.length > 0 && this.context) {
      const batch = this.pending.splice(0, 256);
      const ctx = this.context();
      const section = ctx.policy.processes;
      const index = await this.observer.packages.current(section.packaged_executables);
      const observed = await this.execObserver.observe(batch, compileInterpreters(section.interpreters), index);
      const view = {
        processes: [],
        executables: observed.executables,
        homeDirectories: section.writable_locations.home_directories ? this.observer.users.homeDirectories() : [],
        dpkgChangedAt: dpkgLastChange(this.env.paths.rootfs),
      };
      const judge = judgeContext(view, compileProcessPolicy(section), this.baselineOf(ctx.baseline), this.observer.kernelThreadComms);
      const programs = programContext(judge, observed.programs);
      for (const exec of observed.execs) {
        const { verdict, flagged } = judgeExec(exec, judge, programs);
        this.m.events.inc({ verdict });
        for (const f of flagged) this.held.add(f);
        if (exec.inline) this.countInline(exec.inline.runner, exec.inline.via);
        if (flagged.length > 0)
          this.env.log.info('flagged exec', {
            pid: exec.process.pid,
            exe: flagged[0]!.exe,
            kind: flagged[0]!.kind,
            user: exec.process.user,
          });
      }
    }
  }

  private async pollKernel(): Promise<void> {
    const now = Date.now();
    if (now - this.lastKernelPoll < kernelPollMs) return;
    this.lastKernelPoll = now;
    const read = await readKernelAudit();
    this.kernelOk = read.ok;
    if (!read.ok) {
      this.kernelLost = undefined;
      if (!this.reportedKernelProblem)
        this.env.log.info('cannot ask the kernel whether auditing is on; only the audit log tells', { reason: read.reason });
      this.reportedKernelProblem = true;
      return;
    }
    this.kernelLost = read.status.lost;
    this.auditing.kernel({ atMs: now, status: read.status, ruleKeys: read.ruleKeys });
  }

  private exportSource(path: string, health: FollowHealth, off: readonly string[]): void {
    // One series each, for the path the policy names now (a reload may change it).
    this.clearSeries();
    this.m.healthy.set({ path }, health === 'ok' && this.auditing.ongoing().length === 0 ? 1 : 0);
    for (const reason of auditingOffReasons) this.m.off.set({ reason }, off.filter((r) => r === reason).length);
    this.m.kernelStatus.set({ path }, this.kernelOk ? 1 : 0);
    if (this.kernelLost !== undefined) this.counters.sync(this.m.kernelLost, {}, this.kernelLost);
    const reader = this.reader;
    if (!reader) return;
    const counts = reader.counts;
    this.counters.sync(this.m.records, {}, counts.records, reader);
    for (const reason of ['no_type', 'no_event_id'] as const)
      this.counters.sync(this.m.parseErrors, { reason }, counts.unparsed[reason], reader);
    this.counters.sync(this.m.incomplete, {}, counts.incomplete, reader);
    this.counters.sync(this.m.gaps, {}, reader.followerStats.gaps, reader);
    this.m.lag.set({ path }, reader.status().lagBytes);
  }

  /** Without exec_events, none of the source's series exist: absent is not zero. */
  private clearSeries(): void {
    this.m.healthy.reset();
    this.m.off.reset();
    this.m.kernelStatus.reset();
    this.m.lag.reset();
  }

  private loadHeld(): void {
    let text: string;
    try {
      text = readFileSync(this.heldFile, 'utf8');
    } catch {
      return;
    }
    try {
      const problem = this.held.load(JSON.parse(text));
      if (problem) this.env.log.warn('saved flagged execs unusable; starting without them', { file: this.heldFile, reason: problem });
    } catch (error) {
      this.env.log.warn('saved flagged execs unusable; starting without them', {
        file: this.heldFile,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private saveHeld(): void {
    try {
      mkdirSync(dirname(this.heldFile), { recursive: true, mode: 0o700 });
      writeFileAtomic(this.heldFile, JSON.stringify(this.held.toJSON()) + '\n');
    } catch (error) {
      this.env.log.error('cannot save the flagged execs', {
        file: this.heldFile,
        err: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

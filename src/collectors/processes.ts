import type { BaselineEntries, BaselineSections } from '../baseline/baseline.js';
import type { ProcessesPolicy } from '../config/sections/processes.js';
import type { Logger } from '../log/logger.js';
import { listPids } from '../procfs/pids.js';
import { readPidMax } from '../procfs/system.js';
import { Slicer } from '../scheduler/slicer.js';
import { hasCapability, ownCapabilities } from '../procfs/capabilities.js';
import { exeKey, type ProcessDetails } from '../procfs/process-reader.js';
import { hiddenFindings, type HiddenProcess } from '../processes/hidden.js';
import { stillAlive, sweepHiddenProcesses, type SweepResult } from '../processes/hidden-sweep.js';
import { isJudged, judgeContext, judgeProcess } from '../processes/judge.js';
import { collectorName, processFindingKinds } from '../processes/kinds.js';
import { learnProcesses } from '../processes/learn.js';
import { HostObserver } from '../processes/observe.js';
import { readProcessBaseline, type ProcessBaseline } from '../processes/process-baseline.js';
import { ProcessMetrics } from './processes-metrics.js';
import { ContainerMetrics } from './container-metrics.js';
import { compileProcessPolicy, type CompiledProcessPolicy } from '../processes/process-policy.js';
import { compileContainerPolicy } from '../processes/judge-container.js';
import { StartWatcher, type StartExamination } from '../processes/start-watcher.js';
import { VerdictSummary } from '../processes/verdict-summary.js';
import { executableFacts, FlaggedImages } from '../fleet/flagged-images.js';
import { FleetFactSeries } from './fleet-facts.js';
import { fleetMetricSpecs } from '../metrics/fleet.js';
import { scheduleWork, type Schedule } from '../scheduler/schedule.js';
import type { FlaggedProcess } from '../network/judge-outbound.js';
import { processesShared, type ProcessesShared } from './processes-shared.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';
import { collectorCatalog } from './catalog.js';
import { ExecEventsSource } from './processes-exec.js';
import { CodeInspector } from '../processes/code-inspector.js';
import type { CodeView } from '../processes/code-view.js';
import { compileInterpreters } from '../processes/interpreters.js';
import { combinedVerdict } from '../processes/judge-execs.js';
import { InjectedSummary, judgeInjected, type InjectedCode } from '../processes/judge-injected.js';
import { judgeProgram, programContext, ProgramSummary } from '../processes/judge-programs.js';
import { ProgramObserver } from '../processes/programs.js';
import { processesMetricSpecs } from '../metrics/processes.js';
import { registerCounter } from '../metrics/spec.js';
import type { PackageIndex } from '../processes/package-index.js';
import type { ObservedProcess } from '../processes/host-view.js';
import { helperScript } from '../isolated/helper-process.js';

/** Longest stretch of synchronous work before yielding to the event loop (ms). */
const sliceMs = 3;

/** The kernel's default pid_max, for a procfs that does not say (a fixture tree). */
const defaultPidMax = 32768;

/**
 * The processes collector: which running processes should not be here (`ps aux` and `top`,
 * continuously). Each collection reads the process table and judges it; in `serve`, a watch of new
 * PIDs counts short-lived processes and a scheduled sweep looks for hidden ones.
 */
class ProcessesCollector implements Collector {
  readonly name = collectorName;
  readonly findingKinds = processFindingKinds;
  private readonly observer: HostObserver;
  private readonly metrics: ProcessMetrics;
  private readonly containerMetrics: ContainerMetrics;
  private readonly fleetFacts: FleetFactSeries<'sha256' | 'exe' | 'kind'>;
  private readonly shared: ProcessesShared;
  private readonly log: Logger;
  private readonly procfs: string;
  private watcher: StartWatcher | undefined;
  private sweepSchedule: Schedule | undefined;
  private lastSweep: SweepResult | undefined;
  private sweepFailed = false;
  private started = false;
  private context: (() => CollectorContext) | undefined;
  private reportedUnjudged = false;
  private reportedBaseline: BaselineEntries | undefined;
  private readonly baselineCache = new WeakMap<BaselineEntries, ProcessBaseline>();
  private readonly programs: ProgramObserver;
  /** The exporter's own scripts (its helper): never learned into a baseline. */
  private readonly ownScripts: ReadonlySet<string>;
  private readonly code: CodeInspector;
  private readonly exec: ExecEventsSource;
  private readonly flaggedExecSeries;
  private readonly codeInspections;
  /** Every process's code is read at the next collection (set by the sweep's schedule, and at start). */
  private codeSweepDue = true;
  private codeSweep: Promise<void> | undefined;
  /** judgeInjected's result per reading of CodeInspector, with the policy and dpkg change time it was judged under. */
  private readonly injectedJudged = new WeakMap<
    CodeView,
    { readonly policy: CompiledProcessPolicy; readonly dpkgChangedAt: number | undefined; readonly found: readonly InjectedCode[] }
  >();

  constructor(env: CollectorEnv) {
    this.log = env.log;
    this.procfs = env.paths.procfs;
    this.observer = new HostObserver(env.paths, env.log, env.hostReads);
    this.metrics = new ProcessMetrics(env);
    this.containerMetrics = new ContainerMetrics(env);
    this.fleetFacts = new FleetFactSeries(env, fleetMetricSpecs.flaggedExecutable);
    // The exporter's helper processes are the exporter itself.
    const own = { pid: process.pid, scripts: new Set([helperScript()]) };
    this.ownScripts = own.scripts;
    this.programs = new ProgramObserver(env.paths.procfs, env.paths.rootfs, env.hostReads.processFiles, own);
    this.code = new CodeInspector(env.paths.procfs, env.paths.rootfs, env.hostReads.processFiles);
    this.exec = new ExecEventsSource(env, this.observer, (sections) => this.baselineOf(sections), own);
    this.flaggedExecSeries = env.cappedSeries(processesMetricSpecs.flaggedExecs);
    this.codeInspections = registerCounter(env.registry, processesMetricSpecs.codeInspections);
    for (const result of ['inspected', 'failed'] as const) this.codeInspections.inc({ result }, 0);
    this.shared = processesShared(env);
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    const section = ctx.policy.processes;
    const observation = await this.observer.observe(section);
    const judge = judgeContext(
      observation.view,
      compileProcessPolicy(section),
      this.baselineOf(ctx.baseline),
      undefined,
      compileContainerPolicy(ctx.policy.containers),
    );
    // The index the view's executables were looked up in: one dpkg check per collection, and programs judged by the same lists.
    const { index } = observation;
    const { processes } = observation.view;
    const programs = await this.programs.observe(processes, compileInterpreters(section.interpreters), index);
    const programCtx = programContext(judge, programs.facts);
    // Judged and folded one by one: a quiet host's verdicts are garbage the moment they are made.
    const summary = new VerdictSummary();
    const programSummary = new ProgramSummary();
    const flaggedImages = new FlaggedImages();
    /** `pid:file` of every process flagged now, by its executable or its program: the exec source skips those. */
    const flaggedNow = new Set<string>();
    // For the network collector: the outgoing connections of these processes are judged.
    const flagged = new Map<number, FlaggedProcess>();
    const slicer = new Slicer(sliceMs, 64);
    for (let i = 0; i < processes.length; i++) {
      const p = processes[i]!;
      const verdict = judgeProcess(p, judge);
      summary.add(verdict);
      flaggedImages.add(verdict);
      if (verdict.status === 'judged' && verdict.kinds.length > 0) flaggedNow.add(`${p.pid}:${verdict.exe}`);
      const target = programs.targets.get(p.pid);
      if (target) {
        const program = judgeProgram(p, target, programCtx);
        programSummary.add(program);
        if (program && program.verdict.kinds.length > 0) flaggedNow.add(`${p.pid}:${target.path}`);
      }
      if (isJudged(verdict) && verdict.kinds.length > 0) flagged.set(verdict.process.pid, { exe: verdict.exe, kinds: verdict.kinds });
      const pause = slicer.due();
      if (pause) await pause;
    }
    const injected = await this.injectedCode(
      section,
      processes,
      (pid) => programs.targets.get(pid)?.path,
      index,
      observation.view.dpkgChangedAt,
    );
    const exec = await this.exec.collect(ctx, (pid, exe) => flaggedNow.has(`${pid}:${exe}`));
    // `check` never starts background work: the sweep runs once, inline.
    if (!this.started && section.hidden_sweep.enabled && !this.lastSweep) {
      await this.sweep(section).catch((error: unknown) =>
        this.log.error('hidden-process sweep failed', { err: error instanceof Error ? error.message : String(error) }),
      );
    }
    this.shared.publishFlagged(flagged);
    this.shared.publishContainers(observation.view.containers ?? new Map());
    const hidden = this.currentHidden(section);
    this.metrics.recordCollection(observation.snapshot, summary, observation.packageIndexSize, [
      ...programSummary.flaggedRows,
      ...injected.flaggedRows,
    ]);
    this.flaggedExecSeries.replace(exec.flaggedRows);
    this.containerMetrics.record(observation.view.containers, summary);
    this.metrics.recordHidden(hidden, this.lastSweep, this.sweepFailed);
    this.fleetFacts.publish(section.fleet_facts.max_series, (lookup) => executableFacts(flaggedImages.images(), lookup));
    this.metrics.recordStartWatch(this.watcher?.interval !== undefined ? this.watcher.interval / 1000 : undefined);
    this.reportUnjudged(summary.unjudged.permission_denied);
    return {
      findings: [...summary.findings(), ...programSummary.findings(), ...injected.findings(), ...exec.findings, ...hiddenFindings(hidden)],
    };
  }

  /**
   * Injected code of the processes read so far: every process when a code sweep is due (at start,
   * then on hidden_sweep.schedule; in `check` right away), new ones from the watch in between.
   */
  private async injectedCode(
    section: ProcessesPolicy,
    processes: readonly ObservedProcess[],
    programOf: (pid: number) => string | undefined,
    index: PackageIndex,
    dpkgChangedAt: number | undefined,
  ): Promise<InjectedSummary> {
    const summary = new InjectedSummary();
    if (!section.injected_code.enabled) return summary;
    if (this.codeSweepDue && !this.codeSweep) {
      this.codeSweepDue = false;
      const sweep = this.code.inspect(processes, programOf, index).then((counts) => this.countInspections(counts));
      // `check` waits for it; `serve` reads on in the background and judges at the next collection.
      if (!this.started) await sweep;
      else
        this.codeSweep = sweep
          .catch((error: unknown) => this.log.warn('reading the code of processes failed', { err: String(error) }))
          .finally(() => (this.codeSweep = undefined));
    }
    const policy = compileProcessPolicy(section);
    this.code.current(processes, (p, view) => summary.add(p, this.injectedIn(view, policy, dpkgChangedAt)));
    return summary;
  }

  /**
   * judgeInjected of one reading, kept with it: a reading stays the same object until its process
   * is read again (new process, exec, sweep), so a process already seen is judged again only when
   * the policy or dpkg's database changed, not at every collection.
   */
  private injectedIn(view: CodeView, policy: CompiledProcessPolicy, dpkgChangedAt: number | undefined): readonly InjectedCode[] {
    const judged = this.injectedJudged.get(view);
    if (judged && judged.policy === policy && judged.dpkgChangedAt === dpkgChangedAt) return judged.found;
    const found = judgeInjected(view, policy, dpkgChangedAt);
    this.injectedJudged.set(view, { policy, dpkgChangedAt, found });
    return found;
  }

  private countInspections(counts: { inspected: number; failed: number }): void {
    this.codeInspections.inc({ result: 'inspected' }, counts.inspected);
    this.codeInspections.inc({ result: 'failed' }, counts.failed);
  }

  async learn(ctx: CollectorContext): Promise<BaselineEntries> {
    const section = ctx.policy.processes;
    const { view } = await this.observer.observe(section);
    const index = await this.observer.packages.current(section.packaged_executables);
    const programs = await this.programs.observe(view.processes, compileInterpreters(section.interpreters), index);
    return learnProcesses(view, compileProcessPolicy(section), programs, this.ownScripts);
  }

  async start(context: () => CollectorContext): Promise<void> {
    this.started = true;
    this.context = context;
    this.fleetFacts.start();
    const section = context().policy.processes;
    // Build the package index now rather than on the first scrape.
    void this.observer.packages
      .current(section.packaged_executables)
      .catch((error: unknown) => this.log.warn('cannot read the dpkg database', { err: String(error) }));
    this.watcher = new StartWatcher({
      listPids: () => listPids(this.procfs),
      examine: (pids) => this.examineStarts(pids),
      count: (verdict) => this.metrics.countStart(verdict),
      log: this.log,
    });
    this.applySchedules(section);
    this.exec.start(context);
  }

  policyChanged(ctx: CollectorContext): void {
    if (!this.started) return;
    this.applySchedules(ctx.policy.processes);
    this.exec.reconcile(ctx.policy.processes);
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    await this.exec.stop();
    await this.codeSweep;
    this.sweepSchedule?.stop();
    this.sweepSchedule = undefined;
    this.observer.close();
    await this.fleetFacts.stop();
  }

  private applySchedules(section: ProcessesPolicy): void {
    if (section.start_watch.enabled) this.watcher?.start(section.start_watch.interval_seconds * 1000);
    else this.watcher?.stop();
    this.watcher?.setInterval(section.start_watch.interval_seconds * 1000);
    const sweep = section.hidden_sweep;
    if (!sweep.enabled) {
      this.sweepSchedule?.stop();
      this.sweepSchedule = undefined;
      return;
    }
    if (this.sweepSchedule) {
      this.sweepSchedule.reschedule(sweep.schedule);
      return;
    }
    this.sweepSchedule = scheduleWork(
      'hidden-process sweep',
      sweep.schedule,
      () => this.sweep(this.context?.().policy.processes ?? section),
      this.log,
    );
    void this.sweepSchedule.runNow();
  }

  private async sweep(section: ProcessesPolicy): Promise<void> {
    // Executable mappings and LD_PRELOAD of every process are read on the same schedule, at the next collection.
    this.codeSweepDue = true;
    let pidMax = defaultPidMax;
    try {
      pidMax = readPidMax(this.procfs);
    } catch (error) {
      this.log.warn('cannot read pid_max; sweeping up to the kernel default', {
        pid_max: defaultPidMax,
        err: error instanceof Error ? error.message : String(error),
      });
    }
    try {
      const result = await sweepHiddenProcesses({ procfs: this.procfs, pidMax, comparePs: section.hidden_sweep.compare_ps });
      if (result.psProblem && !this.lastSweep?.psProblem)
        this.log.warn('cannot run ps for the hidden-process sweep; comparing /proc with the kernel only', { err: result.psProblem });
      this.lastSweep = result;
      this.sweepFailed = false;
      for (const h of result.hidden) this.log.warn('hidden process', { pid: h.pid, view: h.view, comm: h.comm });
    } catch (error) {
      this.sweepFailed = true;
      throw error;
    }
  }

  /** Hidden processes of the last sweep that still exist: a finding disappears with its process. */
  private currentHidden(section: ProcessesPolicy): HiddenProcess[] {
    if (!section.hidden_sweep.enabled || !this.lastSweep) return [];
    return this.lastSweep.hidden.filter((h) => stillAlive(this.procfs, h));
  }

  private async examineStarts(pids: readonly number[]): Promise<ReadonlyMap<number, StartExamination>> {
    this.shared.publishStarts(pids);
    // Read everything first, judge after: a short-lived process must be read before it is gone.
    const details: ProcessDetails[] = [];
    const slicer = new Slicer(sliceMs);
    for (const pid of pids) {
      const read = await this.observer.readNew(pid);
      if (read) details.push(read);
      const pause = slicer.due();
      if (pause) await pause;
    }
    const results = new Map<number, StartExamination>();
    if (details.length === 0 || !this.context) return results;
    const ctx = this.context();
    const section = ctx.policy.processes;
    const view = await this.observer.viewOf(details, section);
    const judge = judgeContext(
      view,
      compileProcessPolicy(section),
      this.baselineOf(ctx.baseline),
      this.observer.kernelThreadComms,
      compileContainerPolicy(ctx.policy.containers),
    );
    const index = await this.observer.packages.current(section.packaged_executables);
    const programs = await this.programs.observe(view.processes, compileInterpreters(section.interpreters), index, false);
    const programCtx = programContext(judge, programs.facts);
    // The exec source, when it sees every exec, counts inline code once; otherwise the watch does.
    const countInline = !this.exec.coversExecs;
    for (const p of view.processes) {
      const target = programs.targets.get(p.pid);
      const verdict = combinedVerdict(judgeProcess(p, judge), target ? judgeProgram(p, target, programCtx) : undefined);
      results.set(p.pid, { verdict, exeKey: exeKey(p.exe) });
      const inline = programs.inline.get(p.pid);
      if (inline && countInline && this.programs.takeInline(p.pid)) this.exec.countInline(inline.runner, inline.via);
      this.log.debug('process start', {
        pid: p.pid,
        exe: exeKey(p.exe),
        user: p.user,
        verdict,
        ...(target ? { program: target.path } : {}),
        // What a name claim was judged on: the name ps shows, and the name of the executable.
        ...(verdict === 'name_mismatch' ? { comm: p.comm, argv0: p.argv0, cmdline_empty: p.cmdlineEmpty, state: p.state } : {}),
      });
    }
    if (section.injected_code.enabled) {
      void this.code
        .inspect(view.processes, (pid) => programs.targets.get(pid)?.path, index)
        .then((counts) => this.countInspections(counts))
        .catch((error: unknown) => this.log.debug('reading the code of new processes failed', { err: String(error) }));
    }
    return results;
  }

  private baselineOf(sections: BaselineSections | undefined): ProcessBaseline | undefined {
    const section = sections?.[collectorName];
    if (section === undefined) return undefined;
    let baseline = this.baselineCache.get(section);
    if (!baseline) {
      baseline = readProcessBaseline(section)!;
      this.baselineCache.set(section, baseline);
    }
    if (baseline.invalid.length > 0 && this.reportedBaseline !== section) {
      this.reportedBaseline = section;
      this.log.error('baseline entries of the processes section have an unexpected shape and are ignored', {
        entries: baseline.invalid.slice(0, 10).join(', '),
        count: baseline.invalid.length,
      });
    }
    return baseline;
  }

  /** Say once what is blind: executables that cannot be read cannot be judged. */
  private reportUnjudged(denied: number): void {
    if (this.reportedUnjudged || denied === 0) return;
    this.reportedUnjudged = true;
    const fields = { processes: denied, metric: 'hostguard_processes_unjudged{reason="permission_denied"}' };
    if (hasCapability(ownCapabilities(), 'cap_sys_ptrace')) {
      this.log.info(
        'some executables are unreadable even with cap_sys_ptrace (another mount namespace or a security module such as AppArmor); those processes are not judged',
        fields,
      );
    } else {
      this.log.warn(
        "without cap_sys_ptrace the executables of other users' processes (and of root's processes holding capabilities the exporter lacks) cannot be read, so unknown_executable, unexpected_user, deleted_executable, writable_location and name_mismatch are not judged for them",
        fields,
      );
    }
  }
}

export const processesCollector: CollectorDefinition = {
  ...collectorCatalog.processes,
  create: (env) => new ProcessesCollector(env),
};

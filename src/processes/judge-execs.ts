import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import type { FollowHealth } from '../tail/health.js';
import type { OffPeriod } from './exec-auditing.js';
import type { ObservedExec } from './exec-view.js';
import type { ExecFlagKind, FlaggedExec, HeldExec } from './flagged-execs.js';
import { startVerdict, judgeProcess, type JudgeContext, type ProcessVerdict, type StartVerdict } from './judge.js';
import { describeProgram, judgeProgram, runnerField, type ProgramVerdict } from './judge-programs.js';
import { processKinds } from './kinds.js';
import type { ContainerFacts } from './container-facts.js';
import { nameContainer } from './container-naming.js';

/** The verdict on one exec: counted once, by its most severe kind, and what to hold when it is one. */
export interface ExecVerdict {
  readonly verdict: StartVerdict;
  /** The flagged execs to hold: the executable's, and its script's or loaded program's, each by its most severe kind. */
  readonly flagged: readonly FlaggedExec[];
}

const flagKinds: ReadonlySet<string> = new Set<ExecFlagKind>([
  'deleted_executable',
  'writable_location',
  'name_mismatch',
  'unknown_executable',
  'unexpected_user',
]);
const rank = (v: StartVerdict): number =>
  ['deleted_executable', 'writable_location', 'name_mismatch', 'unknown_executable', 'unexpected_user'].indexOf(v);

/** Verdicts that are no finding: a program's finding counts instead. */
const noFinding: ReadonlySet<StartVerdict> = new Set<StartVerdict>(['known', 'other_root', 'kernel_thread', 'unexamined']);

/**
 * One verdict for a process and its program (script, loaded program): the program's when it has a
 * finding that is more severe than its executable's, or the executable has none. A container's own
 * verdict (container_drift, _package_manager, _shell) stays: it has its own alert.
 */
export function combinedVerdict(own: ProcessVerdict, program: ProgramVerdict | undefined): StartVerdict {
  const verdict = startVerdict(own);
  if (!program) return verdict;
  const programVerdict = startVerdict(program.verdict);
  if (!flagKinds.has(programVerdict)) return verdict;
  if (noFinding.has(verdict)) return programVerdict;
  return flagKinds.has(verdict) && rank(programVerdict) < rank(verdict) ? programVerdict : verdict;
}

/**
 * Judge an exec read from the audit log with the judgment of the start watch (judgeProcess), from
 * the records alone when the process is gone; its script or loaded program with judgeProgram.
 */
export function judgeExec(exec: ObservedExec, judgeCtx: JudgeContext, judgeProgramCtx: JudgeContext): ExecVerdict {
  const p = exec.process;
  const ctx = inItsContainer(exec, judgeCtx);
  const programCtx = inItsContainer(exec, judgeProgramCtx);
  const own = judgeProcess(p, ctx);
  const ownVerdict = startVerdict(own);
  const flagged: FlaggedExec[] = [];
  const base = {
    timeMs: exec.timeMs,
    serial: exec.serial,
    user: p.user,
    userClass: p.userClass,
    pid: p.pid,
    ppid: p.ppid,
    parentExe: p.parentExe,
    container: exec.container,
  };
  if (own.status === 'judged' && flagKinds.has(ownVerdict)) {
    const kind = ownVerdict as ExecFlagKind;
    flagged.push({
      ...base,
      kind,
      exe: own.exe,
      runner: undefined,
      reason: own.reasons[kind]!,
      containerNamespace: own.containerNamespace,
    });
  }
  const program = exec.program ? judgeProgram(p, exec.program, programCtx) : undefined;
  if (program) {
    const programVerdict = startVerdict(program.verdict);
    if (flagKinds.has(programVerdict)) {
      const kind = programVerdict as ExecFlagKind;
      const v = program.verdict;
      flagged.push({
        ...base,
        kind,
        exe: v.exe,
        runner: { field: runnerField(program.target), path: program.target.runner },
        reason: `${describeProgram(program.target)}: ${v.reasons[kind]!}`,
        containerNamespace: v.containerNamespace,
      });
    }
  }
  return { verdict: combinedVerdict(own, program), flagged };
}

/**
 * The context judging an exec in a container: its container known for this PID, so that its
 * findings name it and package managers are judged by name. Where its executable lives (drift) and
 * its terminal are not known from the records: not judged here (the start watch judges them while
 * the process runs).
 */
function inItsContainer(exec: ObservedExec, ctx: JudgeContext): JudgeContext {
  if (exec.container === undefined) return ctx;
  const facts: ContainerFacts = { identity: exec.container, executableLayer: 'unreadable', standardInput: 'unreadable' };
  return { ...ctx, view: { ...ctx.view, containers: new Map([[exec.process.pid, facts]]) } };
}

const criticalKinds: ReadonlySet<ExecFlagKind> = new Set(['deleted_executable', 'writable_location', 'name_mismatch']);

/** One row of hostguard_process_flagged_execs. */
export interface FlaggedExecRow {
  readonly labels: { readonly exe: string; readonly user_class: string; readonly kind: string };
  readonly value: number;
}

/**
 * The held flagged execs whose process is gone: while it runs, the judgment of running processes
 * reports it (one exec, one finding). `running(pid, exe)`: that process still runs that file.
 */
export function flaggedExecFindings(
  held: readonly HeldExec[],
  holdText: string,
  running: (pid: number, exe: string) => boolean,
): { findings: Finding[]; rows: FlaggedExecRow[] } {
  const findings: Finding[] = [];
  const rows: FlaggedExecRow[] = [];
  for (const { count, last } of held) {
    if (running(last.pid, last.exe)) continue;
    const subject: Record<string, string> = { exe: last.exe, kind: last.kind, user: last.user };
    if (last.runner) subject[last.runner.field] = last.runner.path;
    if (last.containerNamespace !== undefined) subject['mount_namespace'] = last.containerNamespace;
    const where = nameContainer(subject, last.container);
    const parent = last.parentExe === undefined ? `parent PID ${last.ppid}` : `parent PID ${last.ppid}, ${last.parentExe}`;
    const times = count === 1 ? 'ran once' : `ran ${count} times`;
    const message = `${last.kind}: ${last.reason}${where}; ${times} in the last ${holdText} and is gone, last at ${new Date(last.timeMs).toISOString()} (PID ${last.pid}, ${parent})`;
    findings.push(finding(processKinds.flagged_exec, subject, message, criticalKinds.has(last.kind) ? 'critical' : 'warning'));
    rows.push({ labels: { exe: last.exe, user_class: last.userClass, kind: last.kind }, value: count });
  }
  return { findings, rows };
}

/** What the collector knows of the exec source now. */
export interface ExecSourceState {
  readonly path: string;
  readonly health: FollowHealth;
  readonly reason: string | undefined;
  /** Stretches during which execs were not recorded (ExecAuditing.periods). */
  readonly offPeriods: readonly OffPeriod[];
}

/** The exec source's own findings: a log that cannot be read, auditing off (or off a while ago). */
export function execSourceFindings(state: ExecSourceState): Finding[] {
  const findings: Finding[] = [];
  if (state.health !== 'ok') {
    findings.push(
      finding(
        processKinds.exec_source_unavailable,
        { path: state.path },
        `the audit log ${state.path} cannot be read (${state.health}${state.reason ? `: ${state.reason}` : ''}): execs are not seen`,
      ),
    );
  }
  for (const period of state.offPeriods) {
    const since = new Date(period.sinceMs).toISOString();
    const what = {
      disabled: 'auditing was switched off',
      rules_removed: 'the exec audit rules were removed',
      daemon_stopped: 'auditd stopped',
    }[period.reason];
    const when =
      period.untilMs === undefined
        ? `since ${since}: execs are not recorded`
        : `from ${since} to ${new Date(period.untilMs).toISOString()}: execs of that time were not recorded`;
    findings.push(finding(processKinds.exec_auditing_off, { reason: period.reason }, `${what} ${when} (${period.evidence})`));
  }
  return findings;
}

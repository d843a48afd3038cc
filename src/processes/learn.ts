import type { BaselineEntries } from '../baseline/baseline.js';
import type { ExecutableFacts, HostView } from './host-view.js';
import { isDaemon, judgeContext, judgeProcess, type JudgedProcess, type ProcessVerdict } from './judge.js';
import { judgeProgram, programContext, type ProgramTarget } from './judge-programs.js';
import { baselineEntries } from './process-baseline.js';
import type { CompiledProcessPolicy } from './process-policy.js';

/** Kinds that no baseline may silence: a binary in /tmp, a deleted one, a masquerade stay findings. */
const neverLearned = new Set(['deleted_executable', 'writable_location', 'name_mismatch']);

/**
 * The baseline section for the host as it is: what the baseline adds to the policy and the
 * package lists. That is every running executable that nothing else accounts for, and the users
 * of daemons (parent PID 1) whose executable a package owns, so a daemon showing up under another
 * account is seen. Executables an allow rule covers, and packaged programs that merely happen to
 * run right now (a shell, sleep, apt), are left out, so the baseline does not churn with them.
 * Processes whose findings a baseline cannot silence are left out too: accepting a host never
 * blesses an implant in /tmp. So are processes in containers: their paths name files of the
 * container's root, and the baseline speaks of the host's. The exporter's own scripts
 * (`ownScripts`) are never learned, whoever runs them: another exporter's helpers running at that
 * moment would make them known, and the same script run by anyone but this exporter is judged.
 */
export function learnProcesses(
  view: HostView,
  policy: CompiledProcessPolicy,
  programs?: { readonly targets: ReadonlyMap<number, ProgramTarget>; readonly facts: ReadonlyMap<string, ExecutableFacts> },
  ownScripts: ReadonlySet<string> = new Set(),
): BaselineEntries {
  const ctx = judgeContext(view, policy, undefined);
  const programCtx = programs ? programContext(ctx, programs.facts) : undefined;
  const learned = new Map<string, Set<string>>();
  for (const p of view.processes) {
    learn(judgeProcess(p, ctx), learned);
    // Scripts and loaded programs are learned by their path, as executables are: they are judged alike.
    const target = programs?.targets.get(p.pid);
    if (target && programCtx && !ownScripts.has(target.path)) learn(judgeProgram(p, target, programCtx)?.verdict, learned);
  }
  return baselineEntries(learned);
}

function learn(verdict: ProcessVerdict | JudgedProcess | undefined, learned: Map<string, Set<string>>): void {
  if (verdict?.status !== 'judged' || verdict.knownBy === 'not_judged' || verdict.kinds.some((k) => neverLearned.has(k))) return;
  const daemon = isDaemon(verdict.process);
  if (verdict.knownBy === 'policy' || (verdict.knownBy === 'package' && !daemon)) return;
  const users = learned.get(verdict.exe) ?? new Set<string>();
  if (daemon) users.add(verdict.process.user);
  learned.set(verdict.exe, users);
}

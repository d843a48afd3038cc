import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import type { ExecutableFacts, ObservedProcess } from './host-view.js';
import { judgeProcess, type JudgeContext, type JudgedProcess, type RunningProcessKind } from './judge.js';
import { processKinds } from './kinds.js';
import { nameContainer } from './container-naming.js';

/**
 * The file a process runs beyond its executable, judged with the same judgment as an executable:
 * the script an interpreter runs, the program the dynamic loader runs. `bash /tmp/x.sh` is
 * writable_location for /tmp/x.sh although bash is packaged; `ld-linux-x86-64.so.2 /tmp/x` is the
 * same for /tmp/x.
 */
export interface ProgramTarget {
  readonly kind: 'script' | 'loaded';
  /** The interpreter or loader: the process's executable. */
  readonly runner: string;
  /** An absolute path: relative ones that could not be resolved are not judged. */
  readonly path: string;
  /** The file is gone, or another file is at its path now (observation decides which it can tell). */
  readonly deleted: boolean;
}

export interface ProgramVerdict {
  readonly target: ProgramTarget;
  /** The verdict on the program, as if it were the executable: `exe` is the program's path. */
  readonly verdict: JudgedProcess;
}

/**
 * Maintainer scripts dpkg runs from its own database (`/var/lib/dpkg/info/PKG.postinst`) and, for a
 * package being unpacked, from its control area (`/var/lib/dpkg/tmp.ci/preinst`, removed once
 * done): they come with packages but are in no package's file list, so they count as packaged.
 */
const maintainerScript =
  /^\/var\/lib\/dpkg\/(info\/[^/]+\.(preinst|postinst|prerm|postrm|config)|tmp\.ci\/(preinst|postinst|prerm|postrm|config))$/;

export function isMaintainerScript(path: string): boolean {
  return maintainerScript.test(path);
}

/**
 * The context judging programs: the same policy, baseline and kernel thread names, with the facts
 * of the programs' files (packaged, world-writable, replaced) where the executables' facts were.
 */
export function programContext(ctx: JudgeContext, facts: ReadonlyMap<string, ExecutableFacts>): JudgeContext {
  return { ...ctx, view: { ...ctx.view, executables: facts } };
}

/**
 * Judge the program of a process like an executable. The names the process shows (comm, argv[0])
 * were judged with its executable, so the program is judged without them: one masquerade, one
 * finding. A process in a container is judged as its executable is: by path patterns only.
 */
export function judgeProgram(p: ObservedProcess, target: ProgramTarget, programCtx: JudgeContext): ProgramVerdict | undefined {
  if (isMaintainerScript(target.path)) return undefined;
  const asProgram: ObservedProcess = {
    ...p,
    exe: { kind: 'path', path: target.path, deleted: target.deleted },
    comm: '',
    argv0: '',
    cmdlineEmpty: false,
  };
  const verdict = judgeProcess(asProgram, programCtx);
  return verdict.status === 'judged' ? { target, verdict } : undefined;
}

interface SeriesRow<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

/** What names the runner in a finding's subject and message. */
export function runnerField(target: ProgramTarget): 'interpreter' | 'loader' {
  return target.kind === 'script' ? 'interpreter' : 'loader';
}

/**
 * The program verdicts of one collection: per-program rows for hostguard_process_flagged (the
 * program's path in `exe`), and one finding per (kind, program, runner, user), PIDs in the message.
 */
export class ProgramSummary {
  readonly flaggedRows: SeriesRow<'exe' | 'user_class' | 'kind'>[] = [];
  private readonly groups = new Map<string, { kind: RunningProcessKind; program: ProgramVerdict; pids: number[] }>();

  add(program: ProgramVerdict | undefined): void {
    if (!program || program.verdict.kinds.length === 0) return;
    const v = program.verdict;
    for (const kind of v.kinds) {
      if (kind === 'resource_hog') continue;
      this.flaggedRows.push({ labels: { exe: v.exe, user_class: v.process.userClass, kind }, value: 1 });
      const key = JSON.stringify([kind, v.exe, program.target.runner, v.process.user, v.containerNamespace ?? '', v.container?.id ?? '']);
      const group = this.groups.get(key);
      if (group) group.pids.push(v.process.pid);
      else this.groups.set(key, { kind, program, pids: [v.process.pid] });
    }
  }

  findings(): Finding[] {
    return [...this.groups.values()].map(({ kind, program, pids }) => {
      const v = program.verdict;
      const subject: Record<string, string> = { exe: v.exe, [runnerField(program.target)]: program.target.runner, user: v.process.user };
      if (v.containerNamespace !== undefined) subject['mount_namespace'] = v.containerNamespace;
      const where = nameContainer(subject, v.container);
      return finding(processKinds[kind], subject, `${describeProgram(program.target)}: ${v.reasons[kind]}${where} (${pidText(pids)})`);
    });
  }
}

/** `the script /tmp/x.sh run by /usr/bin/bash`, `the program /tmp/x run by the loader /usr/lib/.../ld-linux-x86-64.so.2`. */
export function describeProgram(target: ProgramTarget): string {
  return target.kind === 'script'
    ? `the script ${target.path} run by ${target.runner}`
    : `the program ${target.path} run by the loader ${target.runner}`;
}

/** `PID 4242`, or `3 processes, PIDs 1, 2, 3` (at most ten named). */
export function pidText(pids: readonly number[]): string {
  const sorted = [...pids].sort((a, b) => a - b);
  return `${sorted.length === 1 ? 'PID' : `${sorted.length} processes, PIDs`} ${sorted.slice(0, 10).join(', ')}${sorted.length > 10 ? ', …' : ''}`;
}

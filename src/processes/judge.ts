import { basename } from 'node:path/posix';
import { firstMatch } from '../match/glob.js';
import { inContainer, isMemfd, judgedExePath, type ExecutableFacts, type HostView, type ObservedProcess } from './host-view.js';
import type { CompiledProcessPolicy, CompiledRule } from './process-policy.js';
import type { ProcessBaseline } from './process-baseline.js';
import { processFindingKinds, type ProcessFindingKind } from './kinds.js';
import { judgeContainerProcess, type CompiledContainerPolicy } from './judge-container.js';
import type { ContainerIdentity } from '../containers/identity.js';

/**
 * Judgment: pure functions of what was observed (HostView), the policy and the baseline. Nothing
 * here reads the host, so every rule is tested with plain objects.
 */

/**
 * Kinds judged per running process, declared in kinds.ts: not hidden processes (from the sweep), nor
 * the kinds of mappings, held execs and the exec source (judge-injected.ts, judge-execs.ts).
 */
export type RunningProcessKind = Exclude<
  ProcessFindingKind,
  'hidden_process' | 'injected_library' | 'flagged_exec' | 'exec_auditing_off' | 'exec_source_unavailable'
>;

/**
 * How a running executable is accounted for, in the order the sources are tried. `not_judged`: a
 * process in a container (another root), whose identity the host cannot judge.
 */
export type Knowledge = 'policy' | 'baseline' | 'package' | 'unknown' | 'not_judged';

/** Why a userland process with an executable was not judged at all: its files could not be read. */
export const unjudgedReasons = ['permission_denied', 'malformed'] as const;
export type UnjudgedReason = (typeof unjudgedReasons)[number];

export type ProcessVerdict =
  | { readonly status: 'kernel_thread' | 'no_executable'; readonly process: ObservedProcess }
  | { readonly status: 'unjudged'; readonly process: ObservedProcess; readonly reason: UnjudgedReason }
  | JudgedProcess;

export interface JudgedProcess {
  readonly status: 'judged';
  readonly process: ObservedProcess;
  readonly exe: string;
  readonly knownBy: Knowledge;
  /** Finding kinds, most severe first; empty for a process that is accounted for. */
  readonly kinds: readonly RunningProcessKind[];
  /** Why, per kind, in the operator's words. */
  readonly reasons: Readonly<Partial<Record<RunningProcessKind, string>>>;
  /** The name it claims when that is a name_mismatch. */
  readonly claimedName: string | undefined;
  /** Deleted because a package upgrade replaced it: it needs a restart, it is not a finding. */
  readonly outdated: boolean;
  /**
   * The mount namespace (`mnt:[4026532999]`) of a process in a container (another root, knownBy
   * `not_judged`), which tells containers apart; undefined for the host's processes, sandboxed
   * ones included.
   */
  readonly containerNamespace: string | undefined;
  /** Which container, for a process in one whose container was observed (see container-observe.ts). */
  readonly container?: ContainerIdentity;
}

export interface JudgeContext {
  readonly policy: CompiledProcessPolicy;
  readonly baseline: ProcessBaseline | undefined;
  readonly view: HostView;
  /** Name stems of kernel threads (kworker, ksoftirqd, ...): running ones plus the usual ones. */
  readonly kernelStems: ReadonlySet<string>;
  readonly names: NameCache;
  /** The `containers` section, for processes in containers. */
  readonly containers: CompiledContainerPolicy;
}

/** No package managers, shells or exceptions: only drift is judged in containers. */
const noContainerPolicy: CompiledContainerPolicy = { packageManagers: new Set(), shells: new Set(), allow: [] };

/** Kernel threads an implant most often imitates, for hosts where they are not running right now. */
const usualKernelStems = [
  'kworker',
  'kthreadd',
  'ksoftirqd',
  'kswapd',
  'migration',
  'watchdog',
  'rcu_sched',
  'rcu_preempt',
  'kblockd',
  'khugepaged',
  'jbd',
  'kauditd',
];

/** The stem of a kernel thread name: `kworker/0:1H-events` → kworker, `kswapd0` → kswapd. */
export function kernelNameStem(comm: string): string {
  const head = comm.split('/')[0] ?? comm;
  return head.replace(/[0-9.:-]+$/, '');
}

/** `kernelComms`: kernel thread names seen elsewhere (the last full look), when the view holds only a few processes. */
export function judgeContext(
  view: HostView,
  policy: CompiledProcessPolicy,
  baseline: ProcessBaseline | undefined,
  kernelComms: readonly string[] = [],
  containers: CompiledContainerPolicy = noContainerPolicy,
): JudgeContext {
  const kernelStems = new Set(usualKernelStems);
  for (const comm of kernelComms) kernelStems.add(kernelNameStem(comm));
  for (const p of view.processes) if (p.kernelThread) kernelStems.add(kernelNameStem(p.comm));
  kernelStems.delete('');
  return { policy, baseline, view, kernelStems, names: new NameCache(), containers };
}

/** A daemon: started by (or handed to) PID 1. Only daemons are judged by the users in the baseline. */
export function isDaemon(p: ObservedProcess): boolean {
  return p.ppid <= 1;
}

const noFacts: ExecutableFacts = { packaged: false, worldWritable: false, replacedAt: undefined };
const noKinds: readonly RunningProcessKind[] = [];
const noReasons: Readonly<Partial<Record<RunningProcessKind, string>>> = {};

export function judgeProcess(p: ObservedProcess, ctx: JudgeContext): ProcessVerdict {
  if (p.kernelThread) return { status: 'kernel_thread', process: p };
  if (p.exe.kind === 'none') return { status: 'no_executable', process: p };
  if (p.exe.kind === 'unreadable')
    return { status: 'unjudged', process: p, reason: p.exe.problem === 'denied' ? 'permission_denied' : 'malformed' };
  if (inContainer(p)) return judgeInContainer(p, p.exe.path, ctx);
  // runc's init, run from a detached bind mount of runc itself, is judged as the runc it is.
  const exe = judgedExePath(p) ?? p.exe.path;
  const facts = ctx.view.executables.get(exe) ?? noFacts;
  // Most processes are accounted for: nothing is allocated for them beyond the verdict itself.
  let reasons: Partial<Record<RunningProcessKind, string>> | undefined;

  const known = knowledgeOf(p, exe, facts, ctx);
  if (known.knownBy === 'unknown') reasons = { unknown_executable: known.reason };
  else if (known.userProblem) reasons = { unexpected_user: known.userProblem };

  const writable = writablePlaceReason(exe, ctx.policy) ?? writableOnHostReason(exe, facts, ctx);
  if (writable) (reasons ??= {}).writable_location = writable;

  let outdated = false;
  if (p.exe.deleted && !p.runsParentExe && !isMemfd(exe)) {
    outdated = replacedByPackage(p, facts, ctx.view.dpkgChangedAt);
    if (!outdated)
      (reasons ??= {}).deleted_executable = 'the file was deleted or replaced after the process started, and not by a package upgrade';
  }

  const claim = kernelThreadDisguise(p, exe, ctx) ?? protectedNameClaim(p, exe, ctx);
  if (claim) (reasons ??= {}).name_mismatch = claim.reason;
  if (p.stalled) (reasons ??= {}).stalled_process = stalledReason;

  if (reasons) {
    const hog = hogReason(p, ctx.policy);
    if (hog) reasons.resource_hog = hog;
  }
  return verdictOf(p, exe, known.knownBy, reasons, claim, outdated, undefined);
}

/**
 * A process in a container (another root than the host's). Its executable path names a file of the
 * container's root, so the kinds that compare the path with the host's allow rules, baseline,
 * packages and files (unknown_executable, unexpected_user, and resource_hog, which weighs what is
 * not accounted for) say nothing about it. Judged: what the path pattern and the names it shows
 * say on their own (writable_location, name_mismatch), and against the container's image
 * (container_drift, container_package_manager, container_shell: judge-container.ts).
 *
 * Nor deleted_executable: the host cannot tell an upgrade in a container from an attack. System
 * containers (LXD, Incus) upgrade their packages unattended, and Docker's `--init` binds the host's
 * docker-init into every such container, which shows as deleted there once the host upgrades
 * docker. A deleted binary in a writable place or a memfd is still writable_location, and one of
 * the container's writable layer is container_drift.
 */
function judgeInContainer(p: ObservedProcess, exe: string, ctx: JudgeContext): JudgedProcess {
  let reasons: Partial<Record<RunningProcessKind, string>> | undefined;
  const writable = writablePlaceReason(exe, ctx.policy);
  if (writable) reasons = { writable_location: writable };
  // Protected names are not judged here: their executables (/usr/sbin/sshd, ...) are where Debian
  // puts them, and common images put them elsewhere (httpd's /usr/local/apache2/bin/httpd, Alpine's
  // busybox crond); a false alarm on every such container would drown the disguises below.
  const claim = kernelThreadDisguise(p, exe, ctx);
  if (claim) (reasons ??= {}).name_mismatch = claim.reason;
  if (p.stalled) (reasons ??= {}).stalled_process = stalledReason;
  // Drift from the image, package managers and interactive shells: judge-container.ts.
  const facts = ctx.view.containers?.get(p.pid);
  const inContainer = judgeContainerProcess(p, exe, facts, ctx.containers);
  if (inContainer) reasons = { ...reasons, ...inContainer };
  return verdictOf(p, exe, 'not_judged', reasons, claim, false, p.mountNamespace, facts?.identity);
}

const stalledReason =
  'reading its command line (or its root directory) did not return: a thread of it waits on a stalled file system and holds its memory map, which hides it from ps and top until the stall ends';

/** Positional rather than an options object: a quiet host's verdicts allocate nothing else. */
function verdictOf(
  p: ObservedProcess,
  exe: string,
  knownBy: Knowledge,
  reasons: Partial<Record<RunningProcessKind, string>> | undefined,
  claim: { name: string } | undefined,
  outdated: boolean,
  containerNamespace: string | undefined,
  container?: ContainerIdentity,
): JudgedProcess {
  if (!reasons)
    return {
      status: 'judged',
      process: p,
      exe,
      knownBy,
      kinds: noKinds,
      reasons: noReasons,
      claimedName: undefined,
      outdated,
      containerNamespace,
      container,
    };
  const found = reasons;
  const kinds = processFindingKinds.filter((k): k is RunningProcessKind => found[k as RunningProcessKind] !== undefined);
  return {
    status: 'judged',
    process: p,
    exe,
    knownBy,
    kinds,
    reasons: found,
    claimedName: claim?.name,
    outdated,
    containerNamespace,
    container,
  };
}

interface KnowledgeResult {
  readonly knownBy: Knowledge;
  readonly reason: string;
  readonly userProblem?: string;
}

const knownBy: Record<Exclude<Knowledge, 'unknown' | 'not_judged'>, KnowledgeResult> = {
  policy: { knownBy: 'policy', reason: '' },
  baseline: { knownBy: 'baseline', reason: '' },
  package: { knownBy: 'package', reason: '' },
};

/** First match wins: a policy rule, then the baseline, then an installed package. */
function knowledgeOf(p: ObservedProcess, exe: string, facts: ExecutableFacts, ctx: JudgeContext): KnowledgeResult {
  const rule = matchingRule(ctx.policy.rules, exe, p.parentExe);
  if (rule) {
    const allowed = rule.users;
    if (!allowed || allowed.has(p.user)) return knownBy.policy;
    return {
      knownBy: 'policy',
      reason: '',
      userProblem: `runs as ${p.user}; allow rule ${rule.index + 1} (processes.allow[${rule.index}]) allows only ${[...allowed].join(', ')}`,
    };
  }
  const entry = ctx.baseline?.entries.get(exe);
  if (entry) {
    const judged = isDaemon(p) && entry.daemon_users.length > 0 && (p.userClass === 'root' || p.userClass === 'system');
    if (!judged || entry.daemon_users.includes(p.user)) return knownBy.baseline;
    return {
      knownBy: 'baseline',
      reason: '',
      userProblem: `runs as a daemon under ${p.user}; the baseline saw it as a daemon only under ${entry.daemon_users.join(', ')}`,
    };
  }
  if (ctx.policy.packagedExecutables && facts.packaged) return knownBy.package;
  const sources = ctx.policy.packagedExecutables
    ? 'no allow rule matches it, it is not in the baseline, and no installed package owns it'
    : 'no allow rule matches it and it is not in the baseline';
  return { knownBy: 'unknown', reason: sources };
}

function matchingRule(rules: readonly CompiledRule[], exe: string, parentExe: string | undefined): CompiledRule | undefined {
  for (const rule of rules) {
    if (!rule.exe(exe)) continue;
    if (rule.parent && (parentExe === undefined || !rule.parent(parentExe))) continue;
    return rule;
  }
  return undefined;
}

/** The policy's writable places (/tmp, /dev/shm, a memfd, ...) by path pattern alone, minus its exceptions. */
function writablePlaceReason(exe: string, policy: CompiledProcessPolicy): string | undefined {
  const location = firstMatch(policy.writableLocations, exe);
  if (location === -1 || firstMatch(policy.writableExceptions, exe) !== -1) return undefined;
  return isMemfd(exe)
    ? 'it runs from a memfd, a file that exists only in memory'
    : `it lies in a temporary or world-writable place (${policy.writableLocationPatterns[location]})`;
}

/** What only the host's files say: a world-writable file or directory, a home directory from passwd. */
function writableOnHostReason(exe: string, facts: ExecutableFacts, ctx: JudgeContext): string | undefined {
  const { policy } = ctx;
  if (!facts.worldWritable && !policy.homeDirectories) return undefined;
  if (firstMatch(policy.writableExceptions, exe) !== -1) return undefined;
  if (facts.worldWritable) return 'the file or its directory can be written by anyone';
  const home = ctx.view.homeDirectories.find((h) => exe.startsWith(h.endsWith('/') ? h : `${h}/`));
  return home ? `it lies under the home directory ${home}` : undefined;
}

/** A deleted executable is an upgrade when dpkg put a packaged file back at the path after the process started. */
function replacedByPackage(p: ObservedProcess, facts: ExecutableFacts, dpkgChangedAt: number | undefined): boolean {
  return (
    facts.packaged &&
    facts.replacedAt !== undefined &&
    facts.replacedAt >= p.startedAt &&
    dpkgChangedAt !== undefined &&
    dpkgChangedAt >= p.startedAt
  );
}

/** The name argv[0] shows in `ps`: its first word, without a directory or a trailing colon (`sshd: root@pts/0`). */
export function argv0Name(argv0: string): string {
  const first = argv0.trim().split(/\s/)[0] ?? '';
  return basename(first).replace(/:$/, '');
}

interface NameClaim {
  readonly name: string;
  readonly reason: string;
}

/** A userland process that ps shows like a kernel thread: meaningful in any root. */
function kernelThreadDisguise(p: ObservedProcess, exe: string, ctx: JudgeContext): NameClaim | undefined {
  if (looksLikeKernelThreadTitle(p.argv0, ctx))
    return { name: p.argv0, reason: `argv[0] "${p.argv0}" makes it look like a kernel thread in ps, but it runs ${exe}` };
  if (p.cmdlineEmpty && p.state !== 'Z')
    return {
      name: `[${p.comm}]`,
      reason: `its command line is empty, so ps shows it as "[${p.comm}]" like a kernel thread, but it runs ${exe}`,
    };
  if (p.comm !== ctx.names.commOf(exe) && ctx.kernelStems.has(ctx.names.stemOf(p.comm))) {
    return { name: p.comm, reason: `it is named "${p.comm}" like a kernel thread, but it runs ${exe}` };
  }
  return undefined;
}

/** A process that calls itself by a protected name (sshd, cron) without running one of its executables. */
function protectedNameClaim(p: ObservedProcess, exe: string, ctx: JudgeContext): NameClaim | undefined {
  if (ctx.policy.protectedNames.length === 0) return undefined;
  const shown = ctx.names.argv0NameOf(p.argv0);
  for (const protectedName of ctx.policy.protectedNames) {
    const claims = p.comm === protectedName.comm || shown === protectedName.name;
    if (claims && firstMatch(protectedName.exe, exe) === -1) {
      return {
        name: protectedName.name,
        reason: `it calls itself "${protectedName.name}", but runs ${exe}, which is not a ${protectedName.name} executable`,
      };
    }
  }
  return undefined;
}

/**
 * `[kworker/0:7]`, as ps shows a kernel thread. Kernel thread names never contain whitespace, so a
 * bracketed title such as Celery's `[celeryd: celery@host:ForkPoolWorker-1]` is not one.
 */
function looksLikeKernelThreadTitle(argv0: string, ctx: JudgeContext): boolean {
  if (!argv0.startsWith('[') || !argv0.endsWith(']')) return false;
  const inner = argv0.slice(1, -1);
  return inner !== '' && !/\s/.test(inner) && ctx.kernelStems.has(ctx.names.stemOf(inner));
}

/**
 * Names derived from strings that repeat across processes (a thousand workers share one argv[0]),
 * computed once per collection rather than once per process.
 */
class NameCache {
  private readonly comms = new Map<string, string>();
  private readonly stems = new Map<string, string>();
  private readonly argv0Names = new Map<string, string>();

  /** The comm the kernel gives a process exec'ed from this path: its basename, cut to 15 bytes. */
  commOf(exe: string): string {
    let comm = this.comms.get(exe);
    if (comm === undefined) this.remember(this.comms, exe, (comm = basename(exe).slice(0, 15)));
    return comm;
  }

  stemOf(comm: string): string {
    let stem = this.stems.get(comm);
    if (stem === undefined) this.remember(this.stems, comm, (stem = kernelNameStem(comm)));
    return stem;
  }

  argv0NameOf(argv0: string): string {
    let name = this.argv0Names.get(argv0);
    if (name === undefined) this.remember(this.argv0Names, argv0, (name = argv0Name(argv0)));
    return name;
  }

  /** Bounded: a host with more distinct names than this gains nothing from keeping them. */
  private remember(map: Map<string, string>, key: string, value: string): void {
    if (map.size < 4096) map.set(key, value);
  }
}

function hogReason(p: ObservedProcess, policy: CompiledProcessPolicy): string | undefined {
  const parts: string[] = [];
  if (p.cpuCores > policy.hogCpuCores) parts.push(`${p.cpuCores.toFixed(2)} CPU cores (limit ${policy.hogCpuCores})`);
  if (p.rssBytes > policy.hogResidentBytes) parts.push(`${mib(p.rssBytes)} resident (limit ${mib(policy.hogResidentBytes)})`);
  return parts.length > 0 ? `it uses ${parts.join(' and ')} while not accounted for` : undefined;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

export function isJudged(v: ProcessVerdict): v is JudgedProcess {
  return v.status === 'judged';
}

/** Verdicts of the start counter: a start is counted once, by its most severe kind. */
export const startVerdicts = [
  'known',
  'unknown_executable',
  'unexpected_user',
  'deleted_executable',
  'writable_location',
  'name_mismatch',
  'container_drift',
  'container_package_manager',
  'container_shell',
  'stalled_process',
  'kernel_thread',
  'other_root',
  'unexamined',
] as const;
export type StartVerdict = (typeof startVerdicts)[number];

export function startVerdict(v: ProcessVerdict | undefined): StartVerdict {
  if (v === undefined) return 'unexamined';
  if (v.status === 'kernel_thread') return 'kernel_thread';
  if (v.status !== 'judged') return 'unexamined';
  const first = v.kinds[0];
  if (first !== undefined && first !== 'resource_hog') return first;
  // A container's process without a finding is not "known": its identity was not judged.
  return v.knownBy === 'not_judged' ? 'other_root' : 'known';
}

import { isAbsolute, join, normalize } from 'node:path';
import type { HostPaths } from '../host-paths.js';
import type { AuditPathItem, ExecEvent } from '../kaudit/exec-event.js';
import type { PathMatcher } from '../match/glob.js';
import { readExe } from '../procfs/exe.js';
import { isTerminal, readFdTarget } from '../procfs/fd.js';
import { hostMountNamespace, mountNamespace } from '../procfs/namespaces.js';
import type { ProcessFiles } from '../procfs/process-files.js';
import {
  directoryIdentity,
  identityOf,
  rootAgainstHost,
  type DirectoryIdentity,
  type ProcessRoot,
  type RootAgainstHost,
} from '../procfs/root.js';
import type { UserDirectory } from '../rootfs/users.js';
import type { ContainerIdentity } from '../containers/identity.js';
import type { ObservedExec } from './exec-view.js';
import { detachedMountPath, judgedExePath, type ExecutableFacts, type ObservedProcess } from './host-view.js';
import type { ProgramTarget } from './judge-programs.js';
import { isOwnScript, noOwnScripts, type OwnScripts } from './programs.js';
import { factsOfNamedFile, statNamedFile } from './file-facts.js';
import type { PackageIndex } from './package-index.js';
import { hostRealPath } from './host-realpath.js';
import { isLoader, whatRuns, type RunTarget } from './what-runs.js';

export interface ExecObservation {
  readonly execs: readonly ObservedExec[];
  /** Facts of the executables the execs ran, for judgeProcess. */
  readonly executables: ReadonlyMap<string, ExecutableFacts>;
  /** Facts of their scripts and loaded programs, for judgeProgram. */
  readonly programs: ReadonlyMap<string, ExecutableFacts>;
}

/**
 * Observation of execs read from the audit log: the process as the records show it, completed
 * from /proc while it (or its parent) still runs — its root, mount namespace, parent executable —
 * and the facts of the files it ran. Decides nothing.
 */
export class ExecObserver {
  private hostRootRead: { readonly identity: DirectoryIdentity | undefined } | undefined;
  private hostNamespaceRead: { readonly value: string | undefined } | undefined;
  /**
   * The last execs read, by PID: what a process whose parent is already gone ran. runc's init
   * (run from a detached mount of runc) is read after `runc run` ended, more often than not.
   */
  private readonly recent = new Map<number, { readonly exe: string; readonly item: AuditPathItem | undefined }>();

  /** `identify`: which container a process in another mount namespace is in (ContainerObserver.identityOf). */
  constructor(
    private readonly paths: HostPaths,
    private readonly users: UserDirectory,
    /** The guarded reader of /proc/PID files: a stat of a process's root asks that root's file system, which may stall. */
    private readonly files: ProcessFiles,
    private readonly identify: (pid: number, mountNamespace: string) => Promise<ContainerIdentity | undefined> = async () => undefined,
    private readonly own: OwnScripts = noOwnScripts,
  ) {}

  async observe(events: readonly ExecEvent[], interpreters: readonly PathMatcher[], index: PackageIndex): Promise<ExecObservation> {
    this.users.refresh();
    const executables = new Map<string, ExecutableFacts>();
    const programs = new Map<string, ExecutableFacts>();
    const execs: ObservedExec[] = [];
    for (const event of events) execs.push(await this.observeOne(event, interpreters, index, executables, programs));
    return { execs, executables, programs };
  }

  private async observeOne(
    event: ExecEvent,
    interpreters: readonly PathMatcher[],
    index: PackageIndex,
    executables: Map<string, ExecutableFacts>,
    programs: Map<string, ExecutableFacts>,
  ): Promise<ObservedExec> {
    const { procfs, rootfs } = this.paths;
    const shebang = scriptItem(event.paths);
    const exeItem = shebang ? event.paths.find((p) => p.item === 1) : event.paths.find((p) => p.item === 0);
    const link = readExe(procfs, event.pid);
    const alive = link.kind === 'path' && link.path === event.exe;
    let root: RootAgainstHost;
    let namespace: string | undefined;
    let deleted = event.exeDeleted;
    /** The process whose root was read: the exec's own, or its parent's when it is gone. */
    let rootPid = event.pid;
    if (alive) {
      ({ root, namespace } = await this.rootOf(event.pid));
      deleted ||= link.deleted;
    } else {
      const parent = await this.rootOf(event.ppid);
      rootPid = event.ppid;
      if (parent.root === 'other') ({ root, namespace } = parent);
      else if (event.exe === detachedMountPath) {
        // On a detached mount (runc's init) no path tells the file: its identity does, below.
        root = 'host';
        namespace = undefined;
      } else {
        // Gone, and its parent on the host's root (or gone too): the file at its path tells. The very
        // file that ran is the host's; another file, or none, is a container's file, or one replaced
        // since: judged by its path only, as the host cannot tell which.
        root = sameFile(rootfs, event.exe, exeItem) === false ? 'unreadable' : 'host';
        namespace = undefined;
      }
    }
    const parentLink = readExe(procfs, event.ppid);
    const parentExec = parentLink.kind === 'path' ? undefined : this.recent.get(event.ppid);
    const parentExe = parentLink.kind === 'path' ? parentLink.path : parentExec?.exe;
    // runc's init runs from a detached bind mount of runc itself (its exe reads `/`): the file the
    // exec's PATH record names (device and inode) is then the very file its parent runs, as the
    // parent's executable shows it, or the parent's own exec record once it is gone.
    const runsParentExe =
      root === 'host' &&
      event.exe === detachedMountPath &&
      parentExe !== undefined &&
      (parentExec ? sameItem(parentExec.item, exeItem) : sameFile(rootfs, parentExe, exeItem) === true);
    this.remember(event.pid, event.exe, exeItem);
    const user = root !== 'other' || event.euid === 0 ? this.users.nameOf(event.euid) : String(event.euid);
    const process: ObservedProcess = {
      pid: event.pid,
      ppid: event.ppid,
      comm: event.comm,
      argv0: event.argv[0] ?? '',
      cmdlineEmpty: event.argv.length === 0 && !event.argvIncomplete,
      kernelThread: false,
      state: 'R',
      euid: event.euid,
      user,
      userClass: this.users.classOfUid(event.euid),
      exe: { kind: 'path', path: event.exe, deleted },
      parentExe,
      cpuSeconds: 0,
      cpuCores: 0,
      rssBytes: 0,
      startedAt: event.timeMs / 1000,
      mountNamespace: namespace,
      root,
      stalled: false,
      ...(runsParentExe && { runsParentExe }),
    };
    const judgedPath = judgedExePath(process) ?? event.exe;
    if (root === 'host' && !executables.has(judgedPath))
      executables.set(judgedPath, factsOfNamedFile(rootfs, judgedPath, runsParentExe ? false : deleted, index));

    let program: ProgramTarget | undefined;
    let inline: ObservedExec['inline'];
    let target = shebang
      ? ({ kind: 'script', runner: event.exe, path: resolve(shebang.name, event.cwd), relative: !isAbsolute(shebang.name) } as RunTarget)
      : whatRuns(event.exe, event.argv, event.cwd, interpreters);
    if (target.kind === 'script' || target.kind === 'loaded') {
      if (isAbsolute(target.path) && !(root === 'host' && isOwnScript(this.own, event.ppid, hostRealPath(rootfs, target.path)))) {
        if (root === 'host') target = { ...target, path: hostRealPath(rootfs, target.path) };
        const gone = root === 'host' && sameFile(rootfs, target.path, shebang) === false;
        program = { kind: target.kind, runner: target.runner, path: target.path, deleted: gone };
        if (root === 'host' && !programs.has(target.path)) programs.set(target.path, factsOfNamedFile(rootfs, target.path, gone, index));
      }
    } else if (target.kind === 'inline') {
      // Code on stdin of a process still reading a terminal is a session, not code piped in.
      const stdin = target.via === 'stdin' && alive ? await readFdTarget(procfs, event.pid, 0).catch(() => undefined) : undefined;
      if (stdin === undefined || !isTerminal(stdin)) inline = { runner: target.runner, via: target.via };
    }
    const container = root === 'other' && namespace !== undefined ? await this.identify(rootPid, namespace) : undefined;
    return { timeMs: event.timeMs, serial: event.serial, keys: event.keys, process, program, inline, container };
  }

  private remember(pid: number, exe: string, item: AuditPathItem | undefined): void {
    this.recent.delete(pid);
    this.recent.set(pid, { exe, item });
    if (this.recent.size > recentExecs) this.recent.delete(this.recent.keys().next().value!);
  }

  /** The root of a running process against the host's, stat'ed only in another mount namespace; `host` when it is gone. */
  private async rootOf(pid: number): Promise<{ root: RootAgainstHost; namespace: string | undefined }> {
    const namespace = mountNamespace(this.paths.procfs, pid);
    if (namespace === undefined || namespace === this.hostNamespace()) return { root: 'host', namespace: undefined };
    const stat = await this.files.statRoot(pid);
    const processRoot: ProcessRoot = stat.ok
      ? { kind: 'directory', identity: identityOf(stat.stats) }
      : { kind: 'unreadable', problem: stat.problem === 'busy' ? 'stuck' : stat.problem };
    const root = rootAgainstHost(processRoot, this.hostRoot());
    return { root, namespace: root === 'host' ? undefined : namespace };
  }

  private hostRoot(): DirectoryIdentity | undefined {
    this.hostRootRead ??= { identity: directoryIdentity(this.paths.rootfs) };
    return this.hostRootRead.identity;
  }

  private hostNamespace(): string | undefined {
    this.hostNamespaceRead ??= { value: hostMountNamespace(this.paths.procfs) };
    return this.hostNamespaceRead.value;
  }
}

/**
 * The script of a #! exec: the kernel looks up the file execve named (item 0), then the
 * interpreter its #! line names (item 1), then the loader. A binary's item 1, when there is one, is
 * the loader; a #! script's is its interpreter.
 */
export function scriptItem(paths: readonly AuditPathItem[]): AuditPathItem | undefined {
  const first = paths.find((p) => p.item === 0);
  const second = paths.find((p) => p.item === 1);
  if (!first || !second || second.nametype !== 'NORMAL' || isLoader(second.name)) return undefined;
  return first;
}

function resolve(name: string, cwd: string | undefined): string {
  if (isAbsolute(name)) return normalize(name);
  return cwd === undefined ? name : normalize(join(cwd, name));
}

/**
 * Whether the host's file at `path` is the one a PATH item recorded (device and inode): true, false
 * (another file, or none), or undefined when the item says nothing (no item, no inode).
 */
/** Execs remembered for their children (ExecObserver.recent). */
const recentExecs = 4096;

/** Two PATH records name the same file: inode and device both known and equal. */
function sameItem(a: AuditPathItem | undefined, b: AuditPathItem | undefined): boolean {
  return a?.inode !== undefined && a.device !== undefined && a.inode === b?.inode && a.device === b.device;
}

function sameFile(rootfs: string, path: string, item: AuditPathItem | undefined): boolean | undefined {
  const s = statNamedFile(rootfs, path);
  if (s === 'unknown') return undefined;
  if (!s) return false;
  if (!item || item.inode === undefined) return undefined;
  if (BigInt(item.inode) !== s.ino) return false;
  return item.device === undefined || item.device === deviceText(s.dev);
}

/** st_dev as the kernel writes it in PATH records: major and minor in hex, `fe:00`. */
function deviceText(dev: bigint): string {
  const major = (dev >> 8n) & 0xfffn;
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xfff00n);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

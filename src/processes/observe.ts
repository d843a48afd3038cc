import { lstat, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HostPaths } from '../host-paths.js';
import type { ProcessesPolicy } from '../config/sections/processes.js';
import type { Logger } from '../log/logger.js';
import { readExe } from '../procfs/exe.js';
import { ownMountsIfReadable, type MountTable } from '../procfs/mounts.js';
import { ProcessFiles } from '../procfs/process-files.js';
import { ProcessReader, type DetailedSnapshot, type ProcessDetails } from '../procfs/process-reader.js';
import { StuckReads } from '../procfs/stuck-reads.js';
import { directoryIdentity, rootAgainstHost, type DirectoryIdentity, type RootAgainstHost } from '../procfs/root.js';
import { Slicer } from '../scheduler/slicer.js';
import { UserDirectory } from '../rootfs/users.js';
import {
  inContainer,
  isMemfd,
  judgedExePath,
  onDetachedMount,
  detachedMountPath,
  type ExecutableFacts,
  type HostView,
  type ObservedProcess,
} from './host-view.js';
import { dpkgLastChange, type PackageIndex } from './package-index.js';
import { PackageKnowledge } from './package-knowledge.js';
import { ContainerObserver } from './container-observe.js';
import type { ContainerFacts } from './container-facts.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A process as last observed, updated in place, with its CPU time then (for a rate). */
interface ObservedRecord {
  readonly observed: Mutable<ObservedProcess>;
  /** With the PID, identifies the process: unlike startedAt it never moves with the wall clock. */
  readonly startTicks: number;
  /** The user directory's generation when user and userClass were looked up. */
  users: number;
  cpuSeconds: number;
  at: number;
  round: number;
}

export interface Observation {
  readonly view: HostView;
  readonly snapshot: DetailedSnapshot;
  /** The package index the view's executables were looked up in. */
  readonly index: PackageIndex;
  readonly packageIndexSize: number;
}

/** A stat made off the event loop: what the facts of an executable need of it. */
export type OffLoopStat =
  { readonly ok: true; readonly stat: { readonly mode: number; readonly ctimeMs: number } } | { readonly ok: false };

/** What the observer reads through: the exporter's HostReads (src/isolated/). */
export interface ObserverReads {
  /** Files of a process that can wait on it, under a deadline. */
  readonly processFiles: ProcessFiles;
  /** stat of paths on file systems that may stall, where a stuck call cannot stop the event loop. */
  statOffLoop(items: readonly { readonly path: string; readonly follow: boolean }[]): Promise<readonly OffLoopStat[]>;
}

/**
 * Observation: reads the host (/proc, passwd, dpkg, the executables' files) into a HostView for
 * judgment. It decides nothing. It keeps what it must between looks: the CPU time of each process
 * at the previous look (for a rate), the package index, and the reader's cache.
 */
export class HostObserver {
  readonly reader: ProcessReader;
  readonly users: UserDirectory;
  readonly packages: PackageKnowledge;
  readonly containers: ContainerObserver;
  private readonly records = new Map<number, ObservedRecord>();
  private round = 0;
  /** Kernel thread names from the last full look, for judging single processes in between. */
  private kernelComms: readonly string[] = [];
  private hostRootRead: { readonly identity: DirectoryIdentity | undefined } | undefined;

  constructor(
    private readonly paths: HostPaths,
    log: Logger,
    /** The exporter's; by default (tests, one-off observers) guarded reads of its own and stats on libuv's pool. */
    private readonly reads: ObserverReads = {
      processFiles: new ProcessFiles(paths.procfs, new StuckReads(log), { deadlineMs: 2000 }),
      statOffLoop: statsInPool,
    },
  ) {
    this.reader = new ProcessReader(paths.procfs, {
      files: reads.processFiles,
      hostRootfs: paths.rootfs,
      exeWatch: (namespace, exePath) => this.containers.upperPathOf(namespace, exePath),
    });
    this.users = new UserDirectory(paths.rootfs);
    this.packages = new PackageKnowledge(paths.rootfs, log);
    this.containers = new ContainerObserver(paths, log, { files: reads.processFiles });
  }

  /**
   * Every process on the host, with the facts judgment needs. The records are kept and updated
   * in place from one look to the next (see ProcessReader): valid until the next observe().
   */
  async observe(section: ProcessesPolicy): Promise<Observation> {
    this.users.refresh();
    // Read once for both: which executables' paths may be looked at without waiting on a file system.
    const mounts = ownMountsIfReadable('/proc');
    const snapshot = await this.reader.readAll(mounts);
    // After the read: a package installed meanwhile (and already running) is in the index we judge by.
    const index = await this.packages.current(section.packaged_executables);
    const now = snapshot.at.getTime() / 1000;
    const round = ++this.round;
    const processes: ObservedProcess[] = [];
    const slicer = new Slicer(3, 64);
    for (let i = 0; i < snapshot.processes.length; i++) {
      const pause = slicer.due();
      if (pause) await pause;
      const p = snapshot.processes[i]!;
      let record = this.records.get(p.pid);
      if (!record || record.startTicks !== p.startTicks) {
        record = {
          observed: this.observed(p, undefined, lifetimeCores(p, now)),
          startTicks: p.startTicks,
          users: this.users.generation,
          cpuSeconds: p.cpuSeconds,
          at: now,
          round,
        };
        this.records.set(p.pid, record);
      } else {
        this.update(record, p, now);
      }
      record.round = round;
      processes.push(record.observed);
    }
    // forEach rather than for-of: no iterator result per entry, on every scrape.
    this.records.forEach((record, pid) => {
      if (record.round !== round) this.records.delete(pid);
      else {
        const parent = this.records.get(record.observed.ppid)?.observed.exe;
        record.observed.parentExe = parent?.kind === 'path' ? parent.path : undefined;
      }
    });
    const kernelComms = new Set<string>();
    for (let i = 0; i < processes.length; i++) if (processes[i]!.kernelThread) kernelComms.add(processes[i]!.comm);
    this.kernelComms = [...kernelComms];
    const containers = await this.containers.observe(snapshot.processes, processes, true);
    return { view: await this.view(processes, index, section, containers, mounts), snapshot, index, packageIndexSize: index.size };
  }

  private update(record: ObservedRecord, p: ProcessDetails, now: number): void {
    const o = record.observed;
    // CPU time moves in 10 ms ticks: a rate over less than a second (two scrapers a moment apart) is noise.
    if (now - record.at >= minRateSeconds) {
      o.cpuCores = Math.max(0, (p.cpuSeconds - record.cpuSeconds) / (now - record.at));
      record.cpuSeconds = p.cpuSeconds;
      record.at = now;
    }
    o.ppid = p.ppid;
    o.comm = p.comm;
    o.argv0 = p.argv0;
    o.cmdlineEmpty = p.cmdlineEmpty;
    o.state = p.state;
    o.exe = p.exe;
    o.mountNamespace = p.mountNamespace;
    o.stalled = p.stalled;
    const root = this.rootOf(p);
    o.cpuSeconds = p.cpuSeconds;
    o.rssBytes = p.rssBytes;
    // Follows btime, which moves when the wall clock is stepped.
    o.startedAt = p.startedAt;
    // Also when passwd changed (it may have named or re-classed the uid since), or the root (exec into a container).
    if (o.euid !== p.euid || record.users !== this.users.generation || o.root !== root) {
      o.euid = p.euid;
      o.user = this.userName(p.euid, root);
      o.userClass = this.users.classOfUid(p.euid);
      record.users = this.users.generation;
    }
    o.root = root;
  }

  /** One new process, read in full, for the watch of starts; undefined when it is already gone. */
  async readNew(pid: number): Promise<ProcessDetails | undefined> {
    const read = await this.reader.readOne(pid);
    return read.ok ? read.process : undefined;
  }

  /** A view of a few processes read by readNew, with the parent's executable read now. */
  async viewOf(details: readonly ProcessDetails[], section: ProcessesPolicy): Promise<HostView> {
    const index = await this.packages.current(section.packaged_executables);
    const now = Date.now() / 1000;
    this.users.refresh();
    const processes = details.map((p) => {
      const parent = readExe(this.paths.procfs, p.ppid);
      return this.observed(p, parent.kind === 'path' ? parent.path : undefined, lifetimeCores(p, now));
    });
    return await this.view(processes, index, section, await this.containers.observe(details, processes, false));
  }

  /** Release what is kept open between looks. */
  close(): void {
    this.reader.close();
  }

  /** Names of kernel threads seen at the last full look. */
  get kernelThreadComms(): readonly string[] {
    return this.kernelComms;
  }

  private observed(p: ProcessDetails, parentExe: string | undefined, cpuCores: number): Mutable<ObservedProcess> {
    const root = this.rootOf(p);
    return {
      pid: p.pid,
      ppid: p.ppid,
      comm: p.comm,
      argv0: p.argv0,
      cmdlineEmpty: p.cmdlineEmpty,
      kernelThread: p.kernelThread,
      state: p.state,
      euid: p.euid,
      user: this.userName(p.euid, root),
      userClass: this.users.classOfUid(p.euid),
      exe: p.exe,
      parentExe,
      cpuSeconds: p.cpuSeconds,
      cpuCores: Math.max(0, cpuCores),
      rssBytes: p.rssBytes,
      startedAt: p.startedAt,
      mountNamespace: p.mountNamespace,
      root,
      stalled: p.stalled,
    };
  }

  /**
   * The host's name for a uid, as `ps` shows it, except under another root (a container): its
   * accounts are its own image's, so the host's name for uid 1000 (a person) would mislabel the
   * container's app user. There the uid is shown as a number; uid 0 is root everywhere. A root that
   * could not be stat'ed (no ptrace access, without root) keeps the host's name: it is most often a
   * sandboxed host daemon's.
   */
  private userName(euid: number, root: RootAgainstHost): string {
    if (root !== 'other' || euid === 0) return this.users.nameOf(euid);
    return String(euid);
  }

  /** The process's root against the host's; the reader stats it only in another mount namespace. */
  private rootOf(p: ProcessDetails): RootAgainstHost {
    return p.root === undefined ? 'host' : rootAgainstHost(p.root, this.hostRoot());
  }

  /**
   * The host's root directory: --path.rootfs, read once. Also right in a container with the
   * host's / mounted there, as a bind mount shows the very directory it binds.
   */
  private hostRoot(): DirectoryIdentity | undefined {
    this.hostRootRead ??= { identity: directoryIdentity(this.paths.rootfs) };
    return this.hostRootRead.identity;
  }

  private async view(
    processes: readonly ObservedProcess[],
    index: PackageIndex,
    section: ProcessesPolicy,
    containers: ReadonlyMap<number, ContainerFacts>,
    mounts = ownMountsIfReadable('/proc'),
  ): Promise<HostView> {
    const executables = new Map<string, ExecutableFacts>();
    const offLoop: { path: string; deleted: boolean }[] = [];
    await this.identifyDetached(processes);
    for (let i = 0; i < processes.length; i++) {
      const p = processes[i]!;
      const path = judgedExePath(p);
      // A container's /usr/bin/curl is not the host's: its facts are not looked up under --path.rootfs.
      if (path === undefined || p.exe.kind !== 'path' || executables.has(path) || inContainer(p)) continue;
      const deleted = p.runsParentExe ? false : p.exe.deleted;
      if (isMemfd(path) || !mayStall(mounts, join(this.paths.rootfs, path)))
        executables.set(path, executableFacts(this.paths.rootfs, path, deleted, index));
      else if (!offLoop.some((e) => e.path === path)) offLoop.push({ path, deleted });
    }
    if (offLoop.length > 0) await this.factsOffLoop(offLoop, index, executables);
    return {
      processes,
      executables,
      homeDirectories: section.writable_locations.home_directories ? this.users.homeDirectories() : [],
      dpkgChangedAt: dpkgLastChange(this.paths.rootfs),
      containers,
    };
  }

  /**
   * For each host process whose executable lies on a detached mount (rare: runc's init for a few
   * milliseconds), whether it is the file its parent runs. A stat of /proc/PID/exe asks the file's
   * own file system: guarded like the other per-process reads (on libuv's pool, under the
   * deadline), never in a helper process, which the start watch would see start.
   */
  private async identifyDetached(processes: readonly ObservedProcess[]): Promise<void> {
    for (let i = 0; i < processes.length; i++) {
      const p = processes[i]! as Mutable<ObservedProcess>;
      if (!onDetachedMount(p) || p.parentExe === undefined) continue;
      const files = this.reads.processFiles;
      const [own, parent] = await Promise.all([files.statLink(p.pid, 'exe'), files.statLink(p.ppid, 'exe')]);
      // The link read again after the stat: runc's init runs from a detached mount for milliseconds,
      // then execs the container's command. Gone, or no longer on the detached mount, and the stat
      // may be of another file than the one the path was read for: this look saw no executable
      // (the process is judged at its next look, or by the exec source).
      const now = readExe(this.paths.procfs, p.pid);
      const moved = now.kind !== 'path' || now.path !== detachedMountPath;
      if (own.ok ? moved : own.problem === 'gone') {
        p.exe = { kind: 'none' };
        continue;
      }
      // Found again at every look: a record is kept from look to look.
      p.runsParentExe = own.ok && parent.ok && own.stats.dev === parent.stats.dev && own.stats.ino === parent.stats.ino;
    }
  }

  /**
   * Facts of executables on file systems that may stall (a FUSE mount, NFS): stat'ed by a helper
   * process, so a stalled one costs that helper and not the event loop. What a stuck stat would have
   * said stays unknown: not world-writable, no replacement time.
   */
  private async factsOffLoop(
    exes: readonly { path: string; deleted: boolean }[],
    index: PackageIndex,
    into: Map<string, ExecutableFacts>,
  ): Promise<void> {
    const items = exes.flatMap(({ path }) => [
      { path: join(this.paths.rootfs, path), follow: true },
      { path: join(this.paths.rootfs, dirname(path)), follow: true },
    ]);
    let stats: readonly OffLoopStat[];
    try {
      stats = await this.reads.statOffLoop(items);
    } catch {
      stats = [];
    }
    exes.forEach(({ path, deleted }, i) => {
      const file = stats[2 * i];
      const dir = stats[2 * i + 1];
      into.set(path, factsOf(path, deleted, index, file?.ok ? file.stat : undefined, dir?.ok ? dir.stat : undefined));
    });
  }
}

const minRateSeconds = 1;

function statsInPool(items: readonly { readonly path: string; readonly follow: boolean }[]): Promise<OffLoopStat[]> {
  return Promise.all(
    items.map(({ path, follow }) =>
      (follow ? stat(path) : lstat(path)).then(
        (s): OffLoopStat => ({ ok: true, stat: { mode: s.mode, ctimeMs: s.ctimeMs } }),
        (): OffLoopStat => ({ ok: false }),
      ),
    ),
  );
}

/** Whether a stat of `hostPath` (or of its directory) may wait on a stalled file system; without a mount table, nothing is assumed to. */
function mayStall(mounts: MountTable | undefined, hostPath: string): boolean {
  return mounts !== undefined && (mounts.mayStall(hostPath) || mounts.mayStall(dirname(hostPath)));
}

function lifetimeCores(p: ProcessDetails, now: number): number {
  const age = now - p.startedAt;
  return age > 1 ? p.cpuSeconds / age : 0;
}

/** Facts about one executable path, looked up under --path.rootfs (on a file system that cannot stall). */
export function executableFacts(rootfs: string, path: string, deleted: boolean, index: PackageIndex): ExecutableFacts {
  if (isMemfd(path)) return { packaged: false, worldWritable: false, replacedAt: undefined };
  const file = statSync(join(rootfs, path), { throwIfNoEntry: false });
  const dir = statSync(join(rootfs, dirname(path)), { throwIfNoEntry: false });
  return factsOf(path, deleted, index, file, dir);
}

/** What the stats of an executable and of its directory say; undefined when they could not be had. */
function factsOf(
  path: string,
  deleted: boolean,
  index: PackageIndex,
  file: { mode: number; ctimeMs: number } | undefined,
  dir: { mode: number } | undefined,
): ExecutableFacts {
  const fileWritable = !deleted && file !== undefined && (file.mode & 0o002) !== 0;
  const dirWritable = dir !== undefined && (dir.mode & 0o002) !== 0;
  return {
    packaged: index.owns(path),
    worldWritable: fileWritable || dirWritable,
    replacedAt: deleted && file ? file.ctimeMs / 1000 : undefined,
  };
}

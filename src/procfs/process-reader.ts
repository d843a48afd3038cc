import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { silentLogger } from '../log/logger.js';
import { parseCmdline } from './cmdline.js';
import { problemOf, readProblemOf, type ProcReadProblem } from './errors.js';
import { exeLinkFromError, parseExeTarget, type ExeLink } from './exe.js';
import type { MountTable } from './mounts.js';
import { hostMountNamespace, mountNamespace } from './namespaces.js';
import { listPids } from './pids.js';
import { ProcessFiles, type GuardedRead, type GuardedStat } from './process-files.js';
import { ProblemTally, type ProcessInfo, type ProcessSnapshot } from './process-table.js';
import { readProcText } from './read-text.js';
import { directoryIdentity, identityOf, type DirectoryIdentity, type ProcessRoot } from './root.js';
import { Slicer } from '../scheduler/slicer.js';
import { clockTicksPerSecond, cpuSeconds, emptyStatFields, hasImageMark, isKernelThread, parseStatBytes, type StatFields } from './stat.js';
import { parseStatmBytes, residentBytes } from './statm.js';
import { parseStatus } from './status.js';
import { StuckReads } from './stuck-reads.js';
import { readBootTime, readUptime } from './system.js';

/** A process with what the processes collector needs beyond ProcessInfo. */
export interface ProcessDetails extends ProcessInfo {
  /** argv[0] as shown by `ps`; '' for kernel threads and empty command lines. */
  readonly argv0: string;
  /** A userland process with no command line: `ps` shows it bracketed, like a kernel thread. */
  readonly cmdlineEmpty: boolean;
  /** State letter from stat (R, S, D, Z, ...). */
  readonly state: string;
  /**
   * Start time as Unix seconds: boot time as of the latest read + start ticks. It moves when the
   * wall clock is stepped; startTicks does not, and is what identifies a process.
   */
  readonly startedAt: number;
  /** /proc/PID/ns/mnt (`mnt:[4026531841]`), read once per (PID, start time), on exec and at the periodic refresh; undefined when unreadable. */
  readonly mountNamespace: string | undefined;
  /**
   * The process's root directory, only for a process in another mount namespace than the host's
   * (see `hostMountNamespace`); undefined for the others. Looked at when the process is first
   * read, when it execs or changes namespace, and at its periodic refresh (see ProcessReader):
   * chroot and pivot_root change it without an exec, and nothing cheaper than the look shows them.
   */
  readonly root: ProcessRoot | undefined;
  /**
   * A read of its memory map (cmdline) or a stat of its root did not return within the deadline: a
   * thread of it waits on a stalled file system. argv0 and root are then the last ones read, if any;
   * the process is not read that way again until the stuck read returns (see ProcessFiles).
   */
  readonly stalled: boolean;
}

/** The table as ProcessSnapshot counts it, with ProcessDetails. */
export interface DetailedSnapshot extends ProcessSnapshot {
  /** Records owned by the reader: valid until its next readAll, which updates them in place. */
  readonly processes: readonly ProcessDetails[];
}

export type DetailsRead =
  { readonly ok: true; readonly process: ProcessDetails } | { readonly ok: false; readonly problem: ProcReadProblem };

export interface ProcessReaderOptions {
  /** Cached credentials and argv[0] are re-read at least this often (ms). */
  readonly maxCacheAgeMs?: number;
  /**
   * A process younger than this (s) is read in full: daemons drop privileges and rename themselves
   * right after start. Age is uptime − start ticks, never the wall clock.
   */
  readonly youngSeconds?: number;
  /** Yield to the event loop after this much synchronous work (ms). */
  readonly sliceMs?: number;
  /** How many descriptors (of stat and statm files) may stay open between reads (default: a quarter of the open-files limit, at most 8192). */
  readonly maxHeldFds?: number;
  readonly now?: () => number;
  /** Spreads the first refresh of records read together; Math.random unless a test fixes it. */
  readonly random?: () => number;
  /** How files that can block (cmdline, the root's stat) are read; by default with a deadline of 2 s and a registry of its own. */
  readonly files?: ProcessFiles;
  /**
   * The host's root (--path.rootfs), and where to watch the executables of processes under
   * another root (a container's) from the host: see ExeWatch. Without both, their links are read
   * at every read.
   */
  readonly hostRootfs?: string;
  readonly exeWatch?: ExeWatch;
}

/**
 * For a process under another root than the host's: a path on the host whose lstat changes when
 * the file at the executable's path in that root is deleted, renamed or replaced — the upper layer
 * of an overlayfs root, where every change to that root is written (a deletion of an image file
 * as a whiteout). undefined when there is none (not overlayfs, a path on another mount, a
 * namespace not known yet): its links are then read at every read.
 */
type ExeWatch = (mountNamespace: string, exePath: string) => string | undefined;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A file of one process, read again through a descriptor kept open while the budget allows. */
interface KeptFile {
  readonly path: string;
  fd: number | undefined;
}

/** What the reader keeps per PID between reads. */
interface ProcessRecord {
  readonly details: Mutable<ProcessDetails>;
  readonly stat: KeptFile;
  /**
   * Never opened for a kernel thread, which has no memory of its own; kept open only while it is
   * read at every read (a busy process): the descriptors go to stat first.
   */
  readonly statm: KeptFile;
  readonly exePath: string;
  /** The text of the executable link at the last read. */
  exeTarget: string | undefined;
  /** stat's image mark when the link was last read (see StatFields.imageMarkA). */
  imageMarkA: number;
  imageMarkB: number;
  /** What the link's path was (device and inode, lstat'ed) just before the link was last read; undefined: not known. */
  exePathBefore: string | undefined;
  /**
   * Under another root: the host path watching the executable (ExeWatch) and what its lstat said
   * at the start of this read, and both when the link was last read; undefined: not known.
   */
  exeWatchPath: string | undefined;
  exeWatchNow: string | undefined;
  /** The read whose start exeWatchNow was looked at (lookAtExePaths skips a read without the mount table). */
  exeWatchRound: number;
  exeWatchPathBefore: string | undefined;
  exeWatchBefore: string | undefined;
  /** stat's page faults, CPU ticks and rss field when statm was last read, and when (ms). */
  residentFaults: number;
  residentCpuTicks: number;
  residentRssPages: number;
  residentReadAt: number;
  /** statm was read at the last read too. */
  residentReadLast: boolean;
  round: number;
  /** When status and cmdline were last read (ms), the comm then, and whether the process was young (or the read is to be done again). */
  identityReadAt: number;
  identityComm: string;
  identityReadWhileYoung: boolean;
  /** The cmdline was read at least once: argv0 and cmdlineEmpty mean something. */
  cmdlineKnown: boolean;
  /** details.root is what the last look at the root found (not stuck, not unreadable): it is kept until a look is due. */
  rootSeen: boolean;
}

/** Boot time (wall clock, Unix seconds) and uptime (monotonic, seconds), read together. */
interface BootClock {
  readonly bootTime: number;
  readonly uptime: number;
  /** performance.now() when read. */
  readonly readAt: number;
}

const statBytes = Buffer.allocUnsafe(4096);
// Seven numbers of at most 20 digits.
const statmBytes = Buffer.allocUnsafe(256);

/**
 * Reads the whole process table for the processes collector, fast enough for every scrape.
 *
 * Synchronous reads (4–6× faster than a promise per file) in slices, yielding to the event loop
 * between slices, rather than a worker thread: a worker costs ~10 MiB of resident memory, which
 * the exporter's 64 MB budget does not have. The two reads that can wait on the process itself —
 * cmdline, which takes its memory-map lock, and the stat of a root that is not ours — go through
 * ProcessFiles after the synchronous pass, on libuv's threads under a deadline.
 *
 * Per process, stat is read every time, through a descriptor kept open (one read instead of open,
 * read, close); the rest only when stat says it may have changed. statm (resident memory), through
 * a kept descriptor too, when stat's page faults, CPU time or rss field moved. The executable link
 * when stat's image mark moved (an exec), or, for a process in the exporter's own mount namespace,
 * when its path no longer leads to the file it led to (deleted, renamed, replaced: see
 * lookAtExePaths); for a process under another root than the host's (a container's), when the
 * mark moved or its path's watch in that root's overlayfs upper layer changed (ExeWatch); every
 * time for the other processes elsewhere, or without the mark. The mount namespace and, outside
 * the host's namespace, the root directory when the link changed. Credentials (status) and
 * argv[0] (cmdline) are cached per (PID, start time) and re-read when the executable or comm
 * changes (exec, rename). Everything is read again while the process is young (daemons drop
 * privileges and retitle themselves right after start), and at least every `maxCacheAgeMs`
 * (what changes without an exec: setuid, chroot, pivot_root, unshare).
 * Records are updated in place and stat and statm are parsed from bytes, so a scrape of a quiet
 * host makes almost no garbage: with the exporter's 1 MiB young generation, short-lived objects
 * that survive a scavenge end up in the old generation and keep the resident set up long after.
 */
export class ProcessReader {
  private readonly records = new Map<number, ProcessRecord>();
  private readonly fields: StatFields = emptyStatFields();
  /** stat read again after an empty cmdline (argsInPlace). */
  private readonly afterFields: StatFields = emptyStatFields();
  private heldFds = 0;
  private round = 0;
  private clock: BootClock | undefined;
  private hostNamespace: { readonly value: string | undefined } | undefined;
  private readonly maxCacheAgeMs: number;
  private readonly youngSeconds: number;
  private readonly sliceMs: number;
  private readonly maxHeldFds: number;
  private readonly now: () => number;
  private readonly random: () => number;
  readonly files: ProcessFiles;
  /** Records of this read whose cmdline, or root, is read after the synchronous pass; reused from read to read. */
  private readonly cmdlineDue: ProcessRecord[] = [];
  private readonly rootDue: ProcessRecord[] = [];
  private own: { readonly namespace: string | undefined; readonly root: ProcessRoot } | undefined;
  private readonly hostRootfs: string | undefined;
  private hostRoot: { readonly identity: DirectoryIdentity | undefined } | undefined;
  /** Executable paths of this read's known processes, lstat'ed before it: device:inode, undefined when gone or not looked at. */
  private readonly exePaths = new Map<string, string | undefined>();
  /** The same for the paths watching executables under other roots (ExeWatch): `absent` when none is there. */
  private readonly watchedPaths = new Map<string, string | undefined>();
  private readonly exeWatch: ExeWatch | undefined;

  constructor(
    readonly procfs: string,
    options: ProcessReaderOptions = {},
  ) {
    this.maxCacheAgeMs = options.maxCacheAgeMs ?? 2 * 60_000;
    this.youngSeconds = options.youngSeconds ?? 5;
    this.sliceMs = options.sliceMs ?? 3;
    this.maxHeldFds = options.maxHeldFds ?? defaultMaxHeldFds();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.files = options.files ?? new ProcessFiles(procfs, new StuckReads(silentLogger), { deadlineMs: 2000 });
    this.hostRootfs = options.hostRootfs;
    this.exeWatch = options.exeWatch;
  }

  /**
   * Every process on the host, yielding to the event loop every few milliseconds. `mounts`: the
   * exporter's own mount table, to know which executables' paths can be lstat'ed without waiting
   * on a file system that may stall; without it every executable link is read (see apply).
   */
  async readAll(mounts?: MountTable): Promise<DetailedSnapshot> {
    const processes: ProcessDetails[] = [];
    const round = ++this.round;
    // Once per read: btime moves when the wall clock is stepped (NTP after an RTC-less boot).
    this.clock = this.readClock();
    this.lookAtExePaths(mounts);
    const tally = new ProblemTally();
    const slicer = new Slicer(this.sliceMs);
    const pids = listPids(this.procfs);
    this.cmdlineDue.length = 0;
    this.rootDue.length = 0;
    // Indexed loops on the scrape path: a for-of makes an iterator result per step.
    for (let i = 0; i < pids.length; i++) {
      const pid = pids[i]!;
      const problem = this.refresh(pid, round);
      if (problem === undefined) processes.push(this.records.get(pid)!.details);
      else tally.failed(problem);
      const pause = slicer.due();
      if (pause) await pause;
    }
    const failed = await this.readDue();
    let kept = 0;
    for (let i = 0; i < processes.length; i++) {
      const details = processes[i]!;
      const problem = failed?.get(details.pid);
      if (problem !== undefined) {
        tally.failed(problem);
        continue;
      }
      processes[kept++] = details;
      tally.read(details);
    }
    processes.length = kept;
    this.records.forEach((record, pid) => {
      if (record.round !== round) this.forget(pid, record);
    });
    return { at: new Date(this.now()), processes, races: tally.races, denied: tally.denied, malformed: tally.malformed };
  }

  /**
   * The paths of the executables of known processes in the exporter's own mount namespace (their
   * links name paths from its root), each lstat'ed once, before the links are read: a process
   * whose image is unchanged keeps its link while its path still leads to the same file. A file
   * deleted, renamed or replaced there changes what lstat says, and its processes' links are
   * read again (they now say `(deleted)` or the new name). Paths on file systems that may stall
   * are not looked at: their processes' links are read every time, as links never wait on them.
   * The executables of processes under another root are watched the same way, at the host paths
   * ExeWatch gives (one lstat per container and executable, not per process).
   */
  private lookAtExePaths(mounts: MountTable | undefined): void {
    this.exePaths.clear();
    this.watchedPaths.clear();
    if (mounts === undefined || this.records.size === 0) return;
    const own = this.ownView().namespace;
    if (own === undefined) return;
    this.records.forEach((record) => {
      const d = record.details;
      record.exeWatchPath = undefined;
      record.exeWatchNow = undefined;
      if (d.exe.kind !== 'path' || d.exe.deleted) return;
      if (d.mountNamespace !== own) {
        this.lookAtWatchedPath(record, d.exe.path, mounts);
        return;
      }
      if (this.exePaths.has(d.exe.path)) return;
      const path = d.exe.path;
      if (!path.startsWith('/') || mounts.mayStall(path) || mounts.mayStall(dirname(path))) {
        this.exePaths.set(path, undefined);
        return;
      }
      let identity: string | undefined;
      try {
        const s = lstatSync(path, { throwIfNoEntry: false });
        identity = s === undefined ? undefined : `${s.dev}:${s.ino}`;
      } catch {
        identity = undefined;
      }
      this.exePaths.set(path, identity);
    });
  }

  /** The host path watching the executable of a process under another root, lstat'ed once per read; `absent` is an answer there. */
  private lookAtWatchedPath(record: ProcessRecord, exePath: string, mounts: MountTable): void {
    const namespace = record.details.mountNamespace;
    if (this.exeWatch === undefined || namespace === undefined || !this.underOtherRoot(record)) return;
    const path = this.exeWatch(namespace, exePath);
    if (path === undefined) return;
    record.exeWatchPath = path;
    record.exeWatchRound = this.round;
    if (this.watchedPaths.has(path)) {
      record.exeWatchNow = this.watchedPaths.get(path);
      return;
    }
    let identity: string | undefined;
    if (path.startsWith('/') && !mounts.mayStall(path) && !mounts.mayStall(dirname(path))) {
      try {
        const s = lstatSync(path, { throwIfNoEntry: false });
        identity = s === undefined ? 'absent' : `${s.dev}:${s.ino}:${s.mode}`;
      } catch (error) {
        identity = (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'absent' : undefined;
      }
    }
    this.watchedPaths.set(path, identity);
    record.exeWatchNow = identity;
  }

  /** One process, read in full into a new object (no cache, no descriptor kept): for the watch of new PIDs. */
  async readOne(pid: number): Promise<DetailsRead> {
    // The watch reads a few PIDs every half second: the clock is read again at most once a second.
    if (this.clock === undefined || performance.now() - this.clock.readAt >= 1000) this.clock = this.readClock();
    const record = newRecord(this.procfs, pid);
    this.cmdlineDue.length = 0;
    this.rootDue.length = 0;
    try {
      const length = this.readKept(record.stat, statBytes, false);
      parseStatBytes(statBytes, length, this.fields, record.stat.path);
      this.apply(record, statBytes, true);
    } catch (error) {
      return { ok: false, problem: readProblemOf(error) };
    }
    const problem = (await this.readDue())?.get(pid);
    return problem === undefined ? { ok: true, process: record.details } : { ok: false, problem };
  }

  /**
   * The reads left by the synchronous pass: cmdlines and roots, off the event loop under a
   * deadline. The problems of processes that turned out gone or unreadable, by PID (undefined: none).
   */
  private async readDue(): Promise<Map<number, ProcReadProblem> | undefined> {
    let failed: Map<number, ProcReadProblem> | undefined;
    const fail = (pid: number, problem: ProcReadProblem) => (failed ??= new Map()).set(pid, problem);
    if (this.cmdlineDue.length > 0) {
      const due = this.cmdlineDue.slice();
      const reads = await this.files.readMany(
        due.map((r) => r.details.pid),
        'cmdline',
        4096,
      );
      for (let i = 0; i < due.length; i++) {
        const problem = this.applyCmdline(due[i]!, reads[i]!);
        if (problem) fail(due[i]!.details.pid, problem);
      }
    }
    if (this.rootDue.length > 0) {
      const due = this.rootDue.slice();
      const stats = await this.files.statRoots(due.map((r) => r.details.pid));
      for (let i = 0; i < due.length; i++) this.applyRoot(due[i]!, stats[i]!);
    }
    return failed;
  }

  /** Close the descriptors kept open between reads. */
  close(): void {
    for (const [pid, record] of this.records) this.forget(pid, record);
  }

  /** Read one PID into its record; the problem when it could not be read. */
  private refresh(pid: number, round: number): ProcReadProblem | undefined {
    let record = this.records.get(pid);
    if (record === undefined) {
      // In the table before the first read, so the descriptors it opens are closed with it
      // (readAll forgets the records it did not read in full).
      record = newRecord(this.procfs, pid);
      this.records.set(pid, record);
    }
    try {
      const length = this.readKept(record.stat, statBytes, true);
      parseStatBytes(statBytes, length, this.fields, record.stat.path);
      if (record.round > 0 && record.details.startTicks !== this.fields.startTicks) {
        // The PID now belongs to another process: nothing cached applies. The stat descriptor was
        // opened afresh for it; the statm one still belongs to the old process.
        const fresh = newRecord(this.procfs, pid);
        fresh.stat.fd = record.stat.fd;
        record.stat.fd = undefined;
        this.forget(pid, record);
        this.records.set(pid, fresh);
        record = fresh;
      }
      record.round = round;
      this.apply(record, statBytes, false);
      return undefined;
    } catch (error) {
      return readProblemOf(error);
    }
  }

  /**
   * Read a file into `into`; its length. Through the file's open descriptor when it has one: a
   * read at offset 0 makes the kernel generate the text anew. A failed read there means that
   * process is gone (even if its PID was reused: the descriptor belongs to the old process), so
   * the path is opened afresh, and the new descriptor kept when `keep` and the budget allow.
   */
  private readKept(file: KeptFile, into: Buffer, keep: boolean): number {
    if (file.fd !== undefined) {
      try {
        const length = readSync(file.fd, into, 0, into.length, 0);
        if (length > 0) return length;
      } catch (error) {
        if (problemOf(error) === undefined) throw error;
      }
      this.closeFd(file);
    }
    const fd = openSync(file.path, 'r');
    let length: number;
    try {
      length = readSync(fd, into, 0, into.length, 0);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    if (keep && this.heldFds < this.maxHeldFds) {
      file.fd = fd;
      this.heldFds++;
    } else closeSync(fd);
    return length;
  }

  /**
   * Fill a record from freshly parsed stat fields, re-reading what may have changed. `full`: a
   * one-off read of everything, keeping no descriptor.
   */
  private apply(record: ProcessRecord, bytes: Buffer, full: boolean): void {
    const f = this.fields;
    const kernelThread = isKernelThread(f);
    const d = record.details;
    // A new record's startTicks is -1: known means this very process was read before.
    const known = d.startTicks === f.startTicks;
    const now = this.now();
    const cpuTicks = f.utimeTicks + f.stimeTicks;
    // statm again only when stat says the resident set may have moved: its rss field (late, but it
    // moves), page faults (a resident set grows by faults) or CPU time; and at least every
    // maxCacheAgeMs (a resident set also shrinks under reclaim). An idle process costs no read.
    const residentDue =
      !kernelThread &&
      (full ||
        !known ||
        f.faults !== record.residentFaults ||
        cpuTicks !== record.residentCpuTicks ||
        f.rssPages !== record.residentRssPages ||
        now - record.residentReadAt >= this.maxCacheAgeMs);
    // Before the record changes: when the process is gone by now, the record stays as it was.
    const residentPages = residentDue
      ? parseStatmBytes(statmBytes, this.readKept(record.statm, statmBytes, !full && record.residentReadLast), record.statm.path)
      : 0;
    if (!residentDue && record.statm.fd !== undefined) this.closeFd(record.statm);
    record.residentReadLast = residentDue;
    if (residentDue) {
      record.residentFaults = f.faults;
      record.residentCpuTicks = cpuTicks;
      record.residentRssPages = f.rssPages;
      record.residentReadAt = now;
      d.rssBytes = residentBytes(residentPages);
    } else if (kernelThread) d.rssBytes = 0;
    const renamed = !sameLatin1(d.comm, bytes, f.commStart, f.commEnd);
    if (renamed) d.comm = bytes.toString('latin1', f.commStart, f.commEnd);
    d.ppid = f.ppid;
    d.state = f.state;
    d.startTicks = f.startTicks;
    d.startedAt = this.clock!.bootTime + f.startTicks / clockTicksPerSecond;
    d.cpuSeconds = cpuSeconds(f);
    d.kernelThread = kernelThread;
    if (kernelThread) {
      d.exe = noExe;
      return;
    }
    // A process in uninterruptible sleep (D) may be waiting on a stalled file system: its cmdline is
    // read again (off the event loop), so a stall shows as stalled_process at once, not within maxCacheAgeMs.
    const stale = record.identityReadWhileYoung || now - record.identityReadAt >= this.maxCacheAgeMs || f.state === 'D';
    const exeChanged = full || !known || stale || renamed || !this.sameImage(record) ? this.readExe(record) : false;
    // unshare(1) and container runtimes enter the namespace and then exec; an unshare without an
    // exec is seen at the periodic refresh.
    let namespaceChanged = false;
    if (full || !known || exeChanged || stale) {
      const namespace = mountNamespace(this.procfs, d.pid);
      namespaceChanged = namespace !== d.mountNamespace;
      d.mountNamespace = namespace;
    }
    this.lookAtRoot(record, full || !known || exeChanged || namespaceChanged || stale);
    if (full || !known || exeChanged || record.identityComm !== d.comm || stale) this.readIdentity(record, now);
  }

  /**
   * Whether the process runs the image its link was last read for, so the link would say the same:
   * stat's image mark is unchanged (no exec since), and the executable is deleted (it stays so),
   * or its path, lstat'ed before this read, is still the file it was just before the link was read.
   * Under another root than the host's (a container's) the path names a file of that root: it is
   * watched at the host path ExeWatch gives (the overlayfs upper layer, where a deletion, rename
   * or replacement in that root is written), which must say what it said when the link was read.
   */
  private sameImage(record: ProcessRecord): boolean {
    const f = this.fields;
    if (!hasImageMark(f) || f.imageMarkA !== record.imageMarkA || f.imageMarkB !== record.imageMarkB) return false;
    const exe = record.details.exe;
    if (exe.kind !== 'path') return false;
    if (exe.deleted) return true;
    if (record.details.mountNamespace !== this.own?.namespace)
      return (
        record.exeWatchRound === this.round &&
        record.exeWatchNow !== undefined &&
        record.exeWatchNow === record.exeWatchBefore &&
        record.exeWatchPath === record.exeWatchPathBefore &&
        this.underOtherRoot(record)
      );
    const before = this.exePaths.get(exe.path);
    return before !== undefined && before === record.exePathBefore;
  }

  /** The last look at the root of a process found a directory that is not the host's root. */
  private underOtherRoot(record: ProcessRecord): boolean {
    const root = record.details.root;
    if (!record.rootSeen || root?.kind !== 'directory' || this.hostRootfs === undefined) return false;
    this.hostRoot ??= { identity: directoryIdentity(this.hostRootfs) };
    return this.hostRoot.identity !== undefined && root.identity !== this.hostRoot.identity;
  }

  /**
   * The root of a process in another mount namespace than the host's. In the exporter's own
   * namespace, /proc/PID/root reads as the path of that root from ours, which the kernel writes
   * without asking any file system: `/` is our root, with no stat at all. Any other root — a chroot,
   * or a root in a namespace of its own, which its owner may have put on a FUSE mount — is stat'ed
   * after the synchronous pass, off the event loop.
   *
   * A root found is kept until `due`: chroot and pivot_root change it without an exec, and neither
   * stat nor the namespace link shows that (pivot_root keeps the namespace), so a change without
   * an exec is seen at the process's periodic refresh. What runs is the same executable meanwhile;
   * an exec under the new root is seen at once (the image mark moves).
   */
  private lookAtRoot(record: ProcessRecord, due: boolean): void {
    const d = record.details;
    if (!this.inOtherMountNamespace(d.mountNamespace)) {
      d.root = undefined;
      record.rootSeen = false;
      return;
    }
    if (!due && record.rootSeen) return;
    record.rootSeen = false;
    const own = this.ownView();
    if (d.mountNamespace === own.namespace) {
      let link: string | undefined;
      try {
        link = readlinkSync(`${this.procfs}/${d.pid}/root`);
      } catch (error) {
        d.root = { kind: 'unreadable', problem: problemOf(error) ?? 'malformed' };
        return;
      }
      if (link === '/') {
        d.root = own.root;
        record.rootSeen = own.root.kind === 'directory';
        return;
      }
    }
    this.rootDue.push(record);
  }

  /**
   * Read the executable link; whether it changed. The link's text is compared with the last one,
   * so an unchanged executable makes no new object.
   */
  private readExe(record: ProcessRecord): boolean {
    const d = record.details;
    record.imageMarkA = this.fields.imageMarkA;
    record.imageMarkB = this.fields.imageMarkB;
    let target: string;
    try {
      target = readlinkSync(record.exePath);
    } catch (error) {
      record.exeTarget = undefined;
      const exe = exeLinkFromError(error);
      if (sameExe(d.exe, exe)) return false;
      d.exe = exe;
      return true;
    }
    const exe = target === record.exeTarget ? d.exe : parseExeTarget(target);
    // What lookAtExePaths saw at the path before this read (undefined for a path it did not look at).
    record.exePathBefore = exe.kind === 'path' && !exe.deleted ? this.exePaths.get(exe.path) : undefined;
    // Its watch under another root is the old path's: it stands for the link only if the link is the same.
    const same = target === record.exeTarget;
    record.exeWatchPathBefore = same ? record.exeWatchPath : undefined;
    record.exeWatchBefore = same ? record.exeWatchNow : undefined;
    if (same) return false;
    record.exeTarget = target;
    d.exe = exe;
    return true;
  }

  /** Credentials now (status never waits on the process); the cmdline after the synchronous pass. */
  private readIdentity(record: ProcessRecord, now: number): void {
    const d = record.details;
    const dir = `${this.procfs}/${d.pid}`;
    const status = parseStatus(readProcText(`${dir}/status`, 'utf8'), `${dir}/status`);
    d.uid = status.uids[0];
    d.euid = status.uids[1];
    record.identityComm = d.comm;
    // Spread the first refresh of records read together (at start-up) over the whole period.
    record.identityReadAt = record.identityReadAt === 0 ? now - this.random() * this.maxCacheAgeMs : now;
    record.identityReadWhileYoung = this.clock!.uptime - d.startTicks / clockTicksPerSecond < this.youngSeconds;
    this.cmdlineDue.push(record);
  }

  /**
   * What the cmdline read says; the problem when the process turned out gone or unreadable. A read
   * that is stuck (or refused while too many are) leaves the last argv0, and is tried again on the
   * next read once its target is no longer stuck.
   */
  private applyCmdline(record: ProcessRecord, read: GuardedRead): ProcReadProblem | undefined {
    const d = record.details;
    if (read.ok) {
      let cmdline;
      try {
        cmdline = parseCmdline(read.text);
      } catch {
        return 'malformed';
      }
      d.argv0 = cmdline.argv0;
      // The cmdline is read after the process's stat: one that exits meanwhile has released its
      // memory and reads empty, like a kernel thread's; so does one in the middle of an exec.
      // Empty means something only while the process still has memory of its own, with its
      // arguments in place (see argsInPlace).
      d.cmdlineEmpty = cmdline.empty && (d.state === 'Z' || (hasMemory(record.statm.path) && this.argsInPlace(record)));
      d.stalled = false;
      record.cmdlineKnown = true;
      return undefined;
    }
    if (read.problem === 'stuck' || read.problem === 'busy') {
      d.stalled = read.problem === 'stuck';
      // Not known is not empty: a process we could not read is not shown bracketed by ps.
      if (!record.cmdlineKnown) d.cmdlineEmpty = false;
      record.identityReadWhileYoung = true;
      return undefined;
    }
    record.identityReadWhileYoung = true;
    return read.problem;
  }

  /**
   * Whether an empty cmdline is the process's own, from its stat read again after it. Between the
   * two halves of an exec the new memory is in place and its arguments not yet: the cmdline reads
   * empty, and stat shows no end of arguments (0), another image than the one read before, or no
   * image at all on both reads while the executable link is readable (the new stack not yet set).
   * That emptiness is the exec's: the process is read again at its next look. Where the kernel
   * withholds the addresses on both reads (no ptrace access: the link unreadable too), the
   * emptiness is taken as is.
   */
  private argsInPlace(record: ProcessRecord): boolean {
    const after = this.afterFields;
    try {
      const bytes = readFileSync(record.stat.path);
      parseStatBytes(bytes, bytes.length, after, record.stat.path);
    } catch {
      return false; // gone: the exit's emptiness, not the process's
    }
    const before = { imageMarkA: record.imageMarkA, imageMarkB: record.imageMarkB };
    if (!hasImageMark(after) && !hasImageMark(before)) {
      // No addresses on either read. Withheld when this exporter may not trace the process: its
      // executable link is then unreadable too, and the emptiness is taken as is. With the link
      // readable, both reads fell inside an exec, before the new image's stack was set.
      if (record.details.exe.kind !== 'path') return true;
      record.identityReadWhileYoung = true;
      return false;
    }
    if (after.argsEnd === 0 || after.imageMarkA !== before.imageMarkA || after.imageMarkB !== before.imageMarkB) {
      record.identityReadWhileYoung = true;
      return false;
    }
    return true;
  }

  private applyRoot(record: ProcessRecord, stat: GuardedStat): void {
    const d = record.details;
    if (stat.ok) {
      d.root = { kind: 'directory', identity: identityOf(stat.stats) };
      record.rootSeen = true;
      if (d.stalled && record.cmdlineKnown) d.stalled = false;
      return;
    }
    if (stat.problem === 'stuck' || stat.problem === 'busy') {
      if (stat.problem === 'stuck') d.stalled = true;
      // The last root seen, if any: a stalled root is no reason to judge the process otherwise.
      if (d.root?.kind !== 'directory') d.root = { kind: 'unreadable', problem: 'stuck' };
      return;
    }
    d.root = { kind: 'unreadable', problem: stat.problem };
  }

  /** The exporter's own mount namespace and root, read once. */
  private ownView(): { readonly namespace: string | undefined; readonly root: ProcessRoot } {
    if (!this.own) {
      const identity = directoryIdentity('/');
      this.own = {
        namespace: mountNamespace(this.procfs, 'self'),
        root: identity === undefined ? { kind: 'unreadable', problem: 'malformed' } : { kind: 'directory', identity },
      };
    }
    return this.own;
  }

  private forget(pid: number, record: ProcessRecord): void {
    this.closeFd(record.stat);
    this.closeFd(record.statm);
    if (this.records.get(pid) === record) this.records.delete(pid);
  }

  private closeFd(file: KeptFile): void {
    if (file.fd === undefined) return;
    try {
      closeSync(file.fd);
    } catch {
      // already closed: nothing to release
    }
    file.fd = undefined;
    this.heldFds--;
  }

  /** The host's mount namespace (PID 1's), read once: the namespace the paths under --path.rootfs belong to. */
  hostMountNamespace(): string | undefined {
    this.hostNamespace ??= { value: hostMountNamespace(this.procfs) };
    return this.hostNamespace.value;
  }

  /**
   * Whether a namespace is known to differ from the host's. Only there can the paths /proc shows
   * be another root's: the kernel writes them from the reader's root, so a chroot in the host's
   * namespace still shows host paths. Most processes share the host's namespace, so this keeps
   * the stat of a root to the few that do not (systemd's sandboxed units, containers).
   */
  private inOtherMountNamespace(namespace: string | undefined): boolean {
    const host = this.hostMountNamespace();
    return namespace !== undefined && host !== undefined && namespace !== host;
  }

  /**
   * Boot time, 0 when /proc/stat cannot be read (start times are then relative to boot), and
   * uptime; without /proc/uptime (a fixture tree) the uptime is the wall clock's.
   */
  private readClock(): BootClock {
    let bootTime = 0;
    try {
      bootTime = readBootTime(this.procfs);
    } catch {
      // start times relative to boot
    }
    let uptime: number;
    try {
      uptime = readUptime(this.procfs);
    } catch {
      uptime = this.now() / 1000 - bootTime;
    }
    return { bootTime, uptime, readAt: performance.now() };
  }
}

const noExe: ExeLink = { kind: 'none' };

function newRecord(procfs: string, pid: number): ProcessRecord {
  return {
    details: {
      pid,
      ppid: 0,
      comm: '',
      kernelThread: false,
      startTicks: -1,
      uid: 0,
      euid: 0,
      exe: noExe,
      cpuSeconds: 0,
      rssBytes: 0,
      argv0: '',
      cmdlineEmpty: true,
      state: '?',
      startedAt: 0,
      mountNamespace: undefined,
      root: undefined,
      stalled: false,
    },
    stat: { path: `${procfs}/${pid}/stat`, fd: undefined },
    statm: { path: `${procfs}/${pid}/statm`, fd: undefined },
    exePath: `${procfs}/${pid}/exe`,
    exeTarget: undefined,
    imageMarkA: 0,
    imageMarkB: 0,
    exePathBefore: undefined,
    exeWatchPath: undefined,
    exeWatchNow: undefined,
    exeWatchRound: 0,
    exeWatchPathBefore: undefined,
    exeWatchBefore: undefined,
    residentFaults: NaN,
    residentCpuTicks: NaN,
    residentRssPages: NaN,
    residentReadAt: 0,
    residentReadLast: false,
    round: 0,
    identityReadAt: 0,
    identityReadWhileYoung: false,
    identityComm: '',
    cmdlineKnown: false,
    rootSeen: false,
  };
}

/** Whether `text` equals bytes[from, to) read as latin1, without making a string. */
function sameLatin1(text: string, bytes: Buffer, from: number, to: number): boolean {
  if (text.length !== to - from) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[from + i]) return false;
  return true;
}

function sameExe(a: ExeLink, b: ExeLink): boolean {
  if (a.kind === 'path' && b.kind === 'path') return a.path === b.path && a.deleted === b.deleted;
  if (a.kind === 'unreadable' && b.kind === 'unreadable') return a.problem === b.problem;
  return a.kind === b.kind;
}

/** What the executable link said, as one comparable string: a change means an exec (or a deletion). */
export function exeKey(exe: ExeLink): string {
  return exe.kind === 'path' ? `${exe.path}${exe.deleted ? ' (deleted)' : ''}` : exe.kind;
}

/** A quarter of the soft limit on open files, at most 8192: the rest stays for sockets and files. */
function defaultMaxHeldFds(): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    const soft = match?.[1] === 'unlimited' ? Infinity : Number(match?.[1] ?? 1024);
    return Math.max(0, Math.min(8192, Math.floor(soft / 4)));
  } catch {
    return 256;
  }
}

/** Whether /proc/PID/statm shows pages of the process's own: none once it exits (or for a kernel thread). */
function hasMemory(statmPath: string): boolean {
  try {
    return Number(readProcText(statmPath, 'latin1').split(' ', 1)[0]) > 0;
  } catch {
    return false; // gone
  }
}

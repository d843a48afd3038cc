import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostPaths } from '../host-paths.js';
import type { Logger } from '../log/logger.js';
import { containerOfCgroup } from '../containers/cgroup-forms.js';
import { ContainerDirectory } from '../containers/directory.js';
import type { DockerDirectoryOptions } from '../containers/docker.js';
import type { ContainerIdentity } from '../containers/identity.js';
import { readCgroup } from '../procfs/cgroup.js';
import { executableFileOf, type ExecutableFile } from '../procfs/exe-file.js';
import { readMountInfo, type MountInfoEntry } from '../procfs/mountinfo.js';
import type { ProcessDetails } from '../procfs/process-reader.js';
import { ProcessFiles, type GuardedStat } from '../procfs/process-files.js';
import { standardInputOf, type StandardInput } from '../procfs/stdin.js';
import { StuckReads } from '../procfs/stuck-reads.js';
import type { ContainerFacts, ExecutableLayer } from './container-facts.js';
import { inContainer, type ObservedProcess } from './host-view.js';

/** The root a container's mount namespace has, from its mountinfo. */
export type ContainerRoot =
  | { readonly kind: 'overlay'; readonly upperdir: string; readonly lowerdirs: readonly string[] }
  | { readonly kind: 'not_overlayfs'; readonly fsType: string }
  | { readonly kind: 'unreadable' };

/** Docker's overlay2 driver mounts with paths relative to its home when absolute ones would not fit a page. */
const dockerOverlayHome = '/var/lib/docker/overlay2';

/**
 * The root of a mount namespace from its mounts: the last mount on `/` (the one on top). Kernel
 * overlayfs names its upper layer in `upperdir`, a path in the namespace where the runtime mounted
 * it: the host's, where Docker, containerd, CRI-O and Podman mount it before the container's
 * pivot_root.
 */
export function containerRootOf(mounts: readonly MountInfoEntry[]): ContainerRoot {
  const root = mounts.findLast((m) => m.mountPoint === '/');
  if (!root) return { kind: 'unreadable' };
  const upperdir = root.superOptions.get('upperdir');
  if (root.fsType !== 'overlay' || upperdir === undefined || upperdir === '') return { kind: 'not_overlayfs', fsType: root.fsType };
  const absolute = (dir: string) => (dir.startsWith('/') ? dir : `${dockerOverlayHome}/${dir}`);
  // Uppermost first; `::` separates data-only layers, whose files are never looked up by path.
  const lowerdirs = (root.superOptions.get('lowerdir') ?? '')
    .split('::')[0]!
    .split(':')
    .filter((d) => d !== '')
    .map(absolute);
  return { kind: 'overlay', upperdir: absolute(upperdir), lowerdirs };
}

/** The mount points other than the root, longest first, for telling which mount a path lies on. */
export function otherMountPoints(mounts: readonly MountInfoEntry[]): string[] {
  return [...new Set(mounts.map((m) => m.mountPoint).filter((p) => p !== '/'))].sort((a, b) => b.length - a.length);
}

function onOtherMount(path: string, mountPoints: readonly string[]): boolean {
  return mountPoints.some((m) => path === m || path.startsWith(`${m}/`));
}

/**
 * What stat said of the upper layer's file at the executable's path. For a file of the image
 * copied up (its inode is not the one running: overlayfs keeps the image file's inode number
 * across a copy-up when its layers share a file system), whether its content is still the
 * image's; undefined when that could not be read.
 */
export type UpperFile =
  | { readonly kind: 'regular'; readonly inode: bigint; readonly sameAsImage?: boolean | undefined }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unreadable' };

/**
 * Where a container process's executable lives, from what was read (pure, for tests):
 * - on another mount than the root: `other_mount`;
 * - deleted: the file was removed from every directory (no links left) only if it was the upper
 *   layer's, as the image's layers are read-only while the container runs; a deleted file of the
 *   image keeps its links there (the container only hides it with a whiteout);
 * - otherwise: the upper layer holds a file at that path, and it is the very one running (same
 *   inode: overlayfs shows a file made in the upper layer under its own inode number), or it is
 *   a file of the image copied up whose content is no longer the image's (written over in place).
 *   A copy-up that changed only metadata (a chmod, a touch) keeps the image's content: not drift.
 */
export function executableLayerOf(
  root: ContainerRoot,
  exe: { readonly path: string; readonly deleted: boolean },
  mountPoints: readonly string[],
  running: ExecutableFile | undefined,
  upper: UpperFile,
): ExecutableLayer {
  if (root.kind === 'unreadable') return 'unreadable';
  if (onOtherMount(exe.path, mountPoints)) return 'other_mount';
  if (root.kind === 'not_overlayfs') return 'not_overlayfs';
  if (running === undefined) return 'unreadable';
  if (exe.deleted) return running.links === 0 ? 'writable_layer' : 'image';
  if (upper.kind === 'unreadable') return 'unreadable';
  if (upper.kind === 'absent') return 'image';
  if (upper.inode === running.inode) return 'writable_layer';
  if (upper.sameAsImage === undefined) return 'unreadable';
  return upper.sameAsImage ? 'image' : 'writable_layer';
}

/** What is kept per mount namespace of a container: read once, again when its root changes or it ages. */
interface NamespaceRecord {
  readonly rootIdentity: string | undefined;
  readAt: number;
  readonly root: ContainerRoot;
  readonly mountPoints: readonly string[];
  readonly identity: ContainerIdentity;
  round: number;
  /** upperPathOf's paths, by executable path: a few per container. */
  readonly upperPaths: Map<string, string>;
}

/** What is kept per process: its facts, valid while it runs the same executable in the same namespace record. */
interface ProcessRecord {
  readonly startTicks: number;
  readonly exePath: string;
  readonly exeDeleted: boolean;
  readonly namespace: NamespaceRecord;
  readonly facts: ContainerFacts;
  round: number;
}

export interface ContainerObserverOptions {
  /** How long a namespace's mounts and identity are kept before they are read again (ms). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
  readonly docker?: DockerDirectoryOptions;
  /** The exporter's guarded reads (a process whose executable lies on a stalled file system is skipped); one of its own by default. */
  readonly files?: ProcessFiles;
}

/** Reads done at once for processes seen for the first time (the thread pool runs four at a time). */
const parallelReads = 16;

/**
 * Observation of the processes in containers: for each, which container (ContainerDirectory, from
 * its cgroup), where its executable lives (image, writable layer, another mount) and what its
 * standard input is. Mounts and identity are read once per mount namespace (keyed by its inode,
 * read again when the namespace's root directory changes or after `maxAgeMs`); a process's facts
 * once per (PID, start, executable). A collection of a host whose containers run what they ran
 * before reads nothing.
 */
export class ContainerObserver {
  private readonly namespaces = new Map<string, NamespaceRecord>();
  private readonly records = new Map<number, ProcessRecord>();
  private readonly directory: ContainerDirectory;
  /** identityOf's identities, by mount namespace, of containers the last look had not read; cleared by each full look. */
  private readonly briefIdentities = new Map<string, ContainerIdentity>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  /**
   * Counts looks at the whole process table. Records are marked with the last one that saw them;
   * a look at a few new processes (the watch of starts, which may run while a full look waits on
   * a read) marks what it adds with the current one and never unmarks anything.
   */
  private round = 0;
  private readonly files: ProcessFiles;

  constructor(
    private readonly paths: HostPaths,
    log: Logger,
    options: ContainerObserverOptions = {},
  ) {
    this.directory = new ContainerDirectory(paths.rootfs, log, options.docker);
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.files = options.files ?? new ProcessFiles(paths.procfs, new StuckReads(log), { deadlineMs: 2000 });
    this.now = options.now ?? Date.now;
  }

  /**
   * The facts of every container process among these (details[i] and observed[i] are the same
   * process). `full`: this is the whole process table, so what is not in it is forgotten.
   */
  async observe(
    details: readonly ProcessDetails[],
    observed: readonly ObservedProcess[],
    full: boolean,
  ): Promise<ReadonlyMap<number, ContainerFacts>> {
    const round = full ? ++this.round : this.round;
    const result = new Map<number, ContainerFacts>();
    const misses: number[] = [];
    for (let i = 0; i < details.length; i++) {
      if (!inContainer(observed[i]!) || details[i]!.exe.kind !== 'path') continue;
      const d = details[i]!;
      const record = this.records.get(d.pid);
      const namespace = this.namespaceOf(d, round);
      if (record && namespace && record.namespace === namespace && sameProcess(record, d)) {
        record.round = Math.max(record.round, round);
        result.set(d.pid, record.facts);
      } else misses.push(i);
    }
    await this.readMissing(
      misses.map((i) => details[i]!),
      result,
      round,
    );
    if (full) {
      this.forgetOlderThan(round);
      this.briefIdentities.clear();
    }
    return result;
  }

  /**
   * Which container a process seen only briefly is in (an exec read from the audit log, or its
   * parent): the identity of its mount namespace as the last look read it, else read now from its
   * cgroup; undefined when that cannot be read (the process is gone).
   */
  async identityOf(pid: number, mountNamespace: string): Promise<ContainerIdentity | undefined> {
    const known = this.namespaces.get(mountNamespace)?.identity ?? this.briefIdentities.get(mountNamespace);
    if (known) return known;
    const cgroup = await readCgroup(this.paths.procfs, pid).catch(() => undefined);
    if (cgroup === undefined) return undefined;
    const identity = await this.directory.identify(containerOfCgroup(cgroup));
    // A burst of execs in one container reads its cgroup and runtime state once; bounded.
    if (this.briefIdentities.size >= 256) this.briefIdentities.clear();
    this.briefIdentities.set(mountNamespace, identity);
    return identity;
  }

  /**
   * Where the file at an executable's path in a container's root is watched from the host (the
   * reader's ExeWatch): that path in the upper layer of its overlayfs root, which a deletion
   * (a whiteout for an image file), rename or replacement in that root changes. undefined when
   * the namespace is not known, its root is not overlayfs, or the path is on another mount.
   */
  upperPathOf(mountNamespace: string, exePath: string): string | undefined {
    const record = this.namespaces.get(mountNamespace);
    if (!record || record.root.kind !== 'overlay' || onOtherMount(exePath, record.mountPoints)) return undefined;
    let path = record.upperPaths.get(exePath);
    if (path === undefined) {
      path = join(this.paths.rootfs, record.root.upperdir, exePath);
      if (record.upperPaths.size < 256) record.upperPaths.set(exePath, path);
    }
    return path;
  }

  /** The namespace record of a process, still valid; undefined when it must be read. */
  private namespaceOf(d: ProcessDetails, round: number): NamespaceRecord | undefined {
    if (d.mountNamespace === undefined) return undefined;
    const record = this.namespaces.get(d.mountNamespace);
    if (!record || record.rootIdentity !== rootIdentityOf(d) || this.now() - record.readAt >= this.maxAgeMs) return undefined;
    record.round = Math.max(record.round, round);
    return record;
  }

  private async readMissing(missing: readonly ProcessDetails[], result: Map<number, ContainerFacts>, round: number): Promise<void> {
    if (missing.length === 0) return;
    // Namespaces first, one read each however many of its processes are new.
    const reading = new Map<string, Promise<NamespaceRecord>>();
    for (const d of missing) {
      const key = d.mountNamespace ?? `pid:${d.pid}`;
      if (!reading.has(key) && !this.namespaceOf(d, round)) reading.set(key, this.readNamespace(d, round));
    }
    for (const [key, promise] of reading) {
      const record = await promise;
      if (key.startsWith('pid:')) continue;
      // Read again after maxAgeMs and found unchanged: the old record stays, and with it its processes' facts.
      const previous = this.namespaces.get(key);
      if (previous && sameNamespace(previous, record)) {
        previous.readAt = record.readAt;
        previous.round = Math.max(previous.round, round);
        reading.set(key, Promise.resolve(previous));
      } else this.namespaces.set(key, record);
    }
    for (let start = 0; start < missing.length; start += parallelReads) {
      await Promise.all(
        missing.slice(start, start + parallelReads).map(async (d) => {
          const namespace = this.namespaceOf(d, round) ?? (await reading.get(`pid:${d.pid}`));
          if (!namespace) return;
          const cached = this.records.get(d.pid);
          if (cached && cached.namespace === namespace && sameProcess(cached, d)) {
            cached.round = Math.max(cached.round, round);
            result.set(d.pid, cached.facts);
            return;
          }
          const facts = await this.readFacts(d, namespace);
          const exe = d.exe.kind === 'path' ? d.exe : { path: '', deleted: false };
          this.records.set(d.pid, { startTicks: d.startTicks, exePath: exe.path, exeDeleted: exe.deleted, namespace, facts, round });
          result.set(d.pid, facts);
        }),
      );
    }
  }

  private async readNamespace(d: ProcessDetails, round: number): Promise<NamespaceRecord> {
    const readAt = this.now();
    const [mounts, cgroup] = await Promise.all([
      readMountInfo(this.paths.procfs, d.pid).catch(() => undefined),
      readCgroup(this.paths.procfs, d.pid).catch(() => undefined),
    ]);
    const identity = await this.directory.identify(cgroup === undefined ? undefined : containerOfCgroup(cgroup));
    return {
      rootIdentity: rootIdentityOf(d),
      readAt,
      root: mounts === undefined ? { kind: 'unreadable' } : containerRootOf(mounts),
      mountPoints: mounts === undefined ? [] : otherMountPoints(mounts),
      identity,
      round,
      upperPaths: new Map(),
    };
  }

  private async readFacts(d: ProcessDetails, namespace: NamespaceRecord): Promise<ContainerFacts> {
    const exe = d.exe.kind === 'path' ? d.exe : { path: '', deleted: false };
    // Both stats ask the file system the link leads to, which may stall: guarded, skipped while stuck.
    const [exeStat, stdinStat] = await Promise.all([this.files.statLink(d.pid, 'exe'), this.files.statLink(d.pid, 'fd/0')]);
    const running = exeStat.ok ? executableFileOf(exeStat.stats) : undefined;
    const standardInput = standardInputFrom(stdinStat);
    const root = namespace.root;
    let upper: UpperFile = { kind: 'absent' };
    if (root.kind === 'overlay' && !exe.deleted && running !== undefined) {
      upper = await upperFile(join(this.paths.rootfs, root.upperdir, exe.path));
      if (upper.kind === 'regular' && upper.inode !== running.inode) {
        const lowers = root.lowerdirs.map((dir) => join(this.paths.rootfs, dir, exe.path));
        upper = { ...upper, sameAsImage: await sameAsImage(join(this.paths.rootfs, root.upperdir, exe.path), lowers) };
      }
    }
    return {
      identity: namespace.identity,
      executableLayer: executableLayerOf(root, exe, namespace.mountPoints, running, upper),
      standardInput,
    };
  }

  private forgetOlderThan(round: number): void {
    this.records.forEach((record, pid) => {
      if (record.round < round) this.records.delete(pid);
    });
    this.namespaces.forEach((record, key) => {
      if (record.round < round) this.namespaces.delete(key);
    });
  }
}

function sameNamespace(a: NamespaceRecord, b: NamespaceRecord): boolean {
  return (
    a.rootIdentity === b.rootIdentity &&
    JSON.stringify(a.root) === JSON.stringify(b.root) &&
    a.mountPoints.join('\0') === b.mountPoints.join('\0') &&
    JSON.stringify(a.identity) === JSON.stringify(b.identity)
  );
}

function rootIdentityOf(d: ProcessDetails): string | undefined {
  return d.root?.kind === 'directory' ? d.root.identity : undefined;
}

/** The same process running the same executable as when its facts were read (compared without making a key). */
function sameProcess(record: ProcessRecord, d: ProcessDetails): boolean {
  return (
    record.startTicks === d.startTicks && d.exe.kind === 'path' && record.exePath === d.exe.path && record.exeDeleted === d.exe.deleted
  );
}

const compareChunk = 64 * 1024;

/** What fd/0's stat says; `closed` when the directory exists but descriptor 0 does not (a process that is gone fails on its other reads too). */
function standardInputFrom(stat: GuardedStat): StandardInput | 'unreadable' {
  if (stat.ok) return standardInputOf(stat.stats);
  return stat.problem === 'gone' ? 'closed' : 'unreadable';
}

/**
 * Whether a copied-up file still holds the image's content: the uppermost lower layer's file at
 * the same path, compared byte for byte. Only for running executables that were copied up, once
 * per process: rare, and a running binary of tens of megabytes is read in a few milliseconds.
 * undefined when neither could be read; false when no lower layer has the file.
 */
async function sameAsImage(upperPath: string, lowerPaths: readonly string[]): Promise<boolean | undefined> {
  for (const lowerPath of lowerPaths) {
    const lower = await upperFile(lowerPath);
    if (lower.kind === 'unreadable') return undefined;
    if (lower.kind === 'absent') continue;
    return sameContent(upperPath, lowerPath).catch(() => undefined);
  }
  return false;
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
    if (sa.size !== sb.size) return false;
    const [ba, bb] = [Buffer.allocUnsafe(compareChunk), Buffer.allocUnsafe(compareChunk)];
    for (let position = 0; position < sa.size; position += compareChunk) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, compareChunk, position), fb.read(bb, 0, compareChunk, position)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      if (ra.bytesRead === 0) break;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** lstat of the upper layer's file at the executable's path: a whiteout (a character device) is no file. */
async function upperFile(path: string): Promise<UpperFile> {
  try {
    const stats = await lstat(path, { bigint: true });
    return stats.isFile() ? { kind: 'regular', inode: stats.ino } : { kind: 'absent' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'absent' } : { kind: 'unreadable' };
  }
}

import { join } from 'node:path';
import type { IntegrityPolicy } from '../config/sections/integrity.js';
import { wantsMd5, type DpkgDatabase, type DpkgReader } from './dpkg.js';
import { fastPathKey, type FileState } from './file-state.js';
import { hashAll } from './hash-pool.js';
import type { HashJob, HashResult } from './hash-protocol.js';
import type { RunningImage, RunningImagesTrouble } from './running-images.js';
import type { RunningImagesResult, ScanFs } from './scan-fs.js';
import type { RunningObservation } from './snapshot.js';
import type { WalkTrouble } from './walk.js';
import { compileWatchScope, type WatchScope } from './watch-scope.js';

/**
 * A scan observes the watched files, the running executables and the package database. It reads
 * and hashes; it never judges (see judge.ts). Every call on the watched files and the running
 * executables is made by helper processes (src/isolated/, through ScanFs), so a file system that
 * stops answering stops one of them, never the exporter; its mount is then skipped (problem
 * `stuck`) and nothing under it is reported removed. The fast path skips files whose size, inode,
 * mtime and ctime match a hash already known.
 */
export const scanProblems = ['vanished', 'unstable', 'unreadable', 'symlink_loop', 'over_limit', 'stuck'] as const;
export type ScanProblem = (typeof scanProblems)[number];

export interface Observation {
  readonly mode: 'fast' | 'full';
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly scope: WatchScope;
  readonly files: ReadonlyMap<string, FileState>;
  /** Directories that could not be listed: what is below them is neither added nor removed. */
  readonly unreadableDirs: readonly string[];
  /** Glob patterns the walk could not expand within max_paths: what they match is not removed, unless a root listed it. */
  readonly unexpandedGlobs: readonly string[];
  readonly problems: Readonly<Record<ScanProblem, number>>;
  /** A few paths behind the problems, for the log. */
  readonly problemExamples: readonly string[];
  readonly hashedFiles: number;
  readonly hashedBytes: number;
  readonly running?: { readonly images: readonly RunningObservation[]; readonly trouble: RunningImagesTrouble };
  readonly packages?: DpkgDatabase;
}

/** A content hash known for a fast-path key: from the previous scan or the baseline. */
export interface KnownHash {
  readonly key: string;
  readonly sha256: string;
  readonly md5?: string;
}

/** Hashes of running images by device:inode:size:times (files' hashes are in the observation itself). */
export type ImageMemo = ReadonlyMap<string, KnownHash>;

export interface ScanOptions {
  readonly rootfs: string;
  readonly procfs: string;
  readonly policy: IntegrityPolicy;
  readonly dpkg: DpkgReader;
  /** Ignore every known hash and read everything. */
  readonly full: boolean;
  /** A hash known for a path (previous scan, else baseline); consulted only when not `full`. */
  readonly known: (path: string) => KnownHash | undefined;
  readonly knownImage: (key: string) => KnownHash | undefined;
  readonly progress?: (files: number, bytes: number) => void;
  /** Where the calls on the watched files are made; closing it ends a scan in progress. */
  readonly fs: ScanFs;
  /** Aborted: the scan stops before its next step. */
  readonly signal?: AbortSignal;
  /** The scope whose owners the package database is read for, when wider than this scan's (a rescan of part of the watched set). */
  readonly packageScope?: WatchScope;
}

interface FileJob {
  readonly path: string;
  readonly state: FileState;
  readonly md5: boolean;
  /** The SHA-256 known for this stat when only the MD5 is missing: the read computes the MD5 alone. */
  readonly knownSha256?: string;
}

export async function scan(options: ScanOptions): Promise<{ observation: Observation; images: ImageMemo }> {
  const startedAt = new Date();
  const { policy } = options;
  const scope = compileWatchScope(policy.paths, policy.exclude);
  const problems = new ProblemLog();
  const { files, trouble } = await listWatched(options, problems);
  const running =
    policy.running_executables && !options.signal?.aborted
      ? await options.fs.runningImages({ procfs: options.procfs, rootfs: options.rootfs })
      : undefined;
  const packages = policy.package_database ? readPackages(options.dpkg, files, running, options.packageScope ?? scope) : undefined;
  const plan = planHashing(options, files, running, packages);
  const hashed = await hashPlanned(options, plan, files, running, problems);
  shareFileHashes(plan.sameAsFile, files, plan.imageHashes, hashed.imageProblems);

  const observation: Observation = {
    mode: options.full ? 'full' : 'fast',
    startedAt,
    finishedAt: new Date(),
    scope,
    files,
    unreadableDirs: [...trouble.unreadableDirs, ...trouble.beyondLimit, ...trouble.stuck],
    unexpandedGlobs: trouble.unexpandedGlobs,
    problems: problems.counts,
    problemExamples: problems.examples,
    hashedFiles: hashed.files,
    hashedBytes: hashed.bytes,
    ...(running && {
      running: { images: runningObservations(running.images, plan.imageHashes, hashed.imageProblems), trouble: running.trouble },
    }),
    ...(packages && { packages }),
  };
  return { observation, images: new Map(plan.imageHashes) };
}

type RunningImages = RunningImagesResult;

/** Problems by kind, and the first few paths behind them for the log. */
class ProblemLog {
  readonly counts: Record<ScanProblem, number> = { vanished: 0, unstable: 0, unreadable: 0, symlink_loop: 0, over_limit: 0, stuck: 0 };
  readonly examples: string[] = [];

  note(problem: ScanProblem, path: string, detail?: string): void {
    this.counts[problem]++;
    if (this.examples.length < 10) this.examples.push(`${problem}: ${path}${detail ? ` (${detail})` : ''}`);
  }

  addWalk(trouble: WalkTrouble): void {
    if (trouble.beyondLimit.length + trouble.unexpandedGlobs.length > 0) this.counts.over_limit = 1;
    this.counts.vanished += trouble.vanished;
    this.counts.symlink_loop += trouble.symlinkLoops;
    this.counts.unreadable += trouble.unreadableDirs.length;
    this.counts.stuck += trouble.stuck.length;
    this.examples.push(...trouble.examples.slice(0, 10 - this.examples.length));
  }
}

/** 1. List: lstat everything in scope (in a helper process: a stuck mount is recorded in `trouble.stuck`, not walked). */
async function listWatched(options: ScanOptions, problems: ProblemLog): Promise<{ files: Map<string, FileState>; trouble: WalkTrouble }> {
  const { policy } = options;
  const walked = await options.fs.walk({
    rootfs: options.rootfs,
    paths: policy.paths,
    exclude: policy.exclude,
    maxPaths: policy.max_paths,
  });
  const files = new Map<string, FileState>();
  for (const { path, state } of walked.entries) files.set(path, state);
  problems.addWalk(walked.trouble);
  return { files, trouble: walked.trouble };
}

/** 2. The package database, for every path the listing or the running executables name (owners: for the watched scope). */
function readPackages(
  dpkg: DpkgReader,
  files: ReadonlyMap<string, FileState>,
  running: RunningImages | undefined,
  scope: WatchScope,
): DpkgDatabase {
  const wanted = new Set<string>();
  for (const [path, state] of files) if (state.type === 'file') wanted.add(path);
  for (const image of running?.images ?? []) wanted.add(image.path);
  return dpkg.read(wanted, scope);
}

interface HashPlan {
  /** Regular files to read, largest first, so the last batches are small and both workers finish together. */
  readonly fileJobs: FileJob[];
  readonly imageJobs: RunningImage[];
  /** Images that are the watched file itself (same inode and times): they share that file's hash. */
  readonly sameAsFile: RunningImage[];
  /** Hashes of running images by key: known already (fast path), then as read. */
  readonly imageHashes: Map<string, KnownHash>;
  readonly needsMd5: (path: string) => boolean;
}

/** 3. What must be read: regular files and images not covered by the fast path (whose hashes are filled in now). */
function planHashing(
  options: ScanOptions,
  files: Map<string, FileState>,
  running: RunningImages | undefined,
  packages: DpkgDatabase | undefined,
): HashPlan {
  const needsMd5 = (path: string) => packages !== undefined && wantsMd5(packages, path);
  const fastPath = (known: KnownHash | undefined, key: string) =>
    !options.full && known !== undefined && known.key === key ? known : undefined;
  const fileJobs: FileJob[] = [];
  for (const [path, state] of files) {
    if (state.type !== 'file') continue;
    const md5 = needsMd5(path);
    const known = fastPath(options.known(path), fastPathKey(state));
    if (known && (!md5 || known.md5 !== undefined)) files.set(path, withHashes(state, known));
    else fileJobs.push({ path, state, md5, ...(known && { knownSha256: known.sha256 }) });
  }
  const imageJobs: RunningImage[] = [];
  const imageHashes = new Map<string, KnownHash>();
  const sameAsFile: RunningImage[] = [];
  for (const image of running?.images ?? []) {
    const md5 = needsMd5(image.path);
    const onDisk = files.get(image.path);
    if (!image.deleted && onDisk?.type === 'file' && fastPathKey(onDisk) === fastPathKey(image.stat)) {
      sameAsFile.push(image);
      continue;
    }
    const hit = fastPath(options.knownImage(image.key), image.key);
    const known = hit && (!md5 || hit.md5 !== undefined) ? hit : undefined;
    if (known) imageHashes.set(image.key, known);
    else imageJobs.push(image);
  }
  fileJobs.sort((a, b) => b.state.size - a.state.size);
  return { fileJobs, imageJobs, sameAsFile, imageHashes, needsMd5 };
}

/**
 * 4. Hash, in helper processes. No jobs, no extra helpers: an unchanged tree costs only the lstat
 * walk. Results land in `files` and `plan.imageHashes`; what could not be read in the problem log.
 */
async function hashPlanned(
  options: ScanOptions,
  plan: HashPlan,
  files: Map<string, FileState>,
  running: RunningImages | undefined,
  problems: ProblemLog,
): Promise<{ files: number; bytes: number; imageProblems: Map<string, string> }> {
  const hashed = { files: 0, bytes: 0, imageProblems: new Map<string, string>() };
  const { fileJobs, imageJobs } = plan;
  if (fileJobs.length + imageJobs.length === 0 || options.signal?.aborted) {
    options.fs.endScan();
    return hashed;
  }
  const workers = Math.min(options.policy.hash_workers, fileJobs.length + imageJobs.length);
  const progress = (n: number, bytes: number) => {
    hashed.files += n;
    hashed.bytes += bytes;
    options.progress?.(hashed.files, hashed.bytes);
  };
  const onHost = (path: string) => hostPath(options.rootfs, path);
  try {
    const hashFiles = async (jobs: readonly FileJob[]): Promise<HashResult[]> =>
      hashAll(
        options.fs,
        jobs.map((j) => ({ file: onHost(j.path), expect: j.state, follow: false, sha256: j.knownSha256 === undefined, md5: j.md5 })),
        jobs.map((j) => j.state.size),
        workers,
        progress,
      );
    // The images are read through /proc/PID/exe; their own file system answers those reads.
    const imageRequests: HashJob[] = imageJobs.map((image) => ({
      file: image.procExe,
      expect: image.stat,
      follow: true,
      sha256: true,
      md5: plan.needsMd5(image.path),
      readsFrom: onHost(image.path),
    }));
    // One after the other, each over every helper: both at once would take two lanes of the same helpers.
    const fileResults = await hashFiles(fileJobs);
    const imageResults = await hashAll(
      options.fs,
      imageRequests,
      imageJobs.map((i) => i.stat.size),
      workers,
      progress,
    );
    const retries = await recordFileResults(options.fs, fileJobs, fileResults, files, problems, onHost);
    recordRetryResults(retries, await hashFiles(retries), files, problems);
    imageJobs.forEach((image, i) => {
      const result = imageResults[i]!;
      if (result.sha256) plan.imageHashes.set(image.key, { key: image.key, sha256: result.sha256, ...(result.md5 && { md5: result.md5 }) });
      else if (result.problem === 'vanished') running!.trouble.gone += image.pids.length;
      else hashed.imageProblems.set(image.key, `${result.problem}${result.detail ? ` (${result.detail})` : ''}`);
    });
  } finally {
    options.fs.endScan();
  }
  return hashed;
}

/** The files' first read. A file replaced or removed between the listing and the read gets one more look: the retries. */
async function recordFileResults(
  fs: ScanFs,
  jobs: readonly FileJob[],
  results: readonly HashResult[],
  files: Map<string, FileState>,
  problems: ProblemLog,
  onHost: (path: string) => string,
): Promise<FileJob[]> {
  const retries: FileJob[] = [];
  const toRelist: FileJob[] = [];
  jobs.forEach((job, i) => {
    const result = results[i]!;
    const sha256 = result.sha256 ?? (result.problem ? undefined : job.knownSha256);
    if (sha256) {
      const known: KnownHash = { key: fastPathKey(job.state), sha256, ...(result.md5 && { md5: result.md5 }) };
      files.set(job.path, withHashes(job.state, known));
    } else if (result.problem === 'changed' || result.problem === 'vanished' || result.problem === 'unstable') toRelist.push(job);
    else problems.note(result.problem === 'stuck' ? 'stuck' : 'unreadable', job.path, result.detail);
  });
  const relisted = await fs.relist(toRelist.map((job) => onHost(job.path)));
  toRelist.forEach((job, i) => {
    const again = relisted[i];
    if (again === undefined) {
      files.delete(job.path);
      problems.note('vanished', job.path);
    } else if ('stuck' in again) problems.note('stuck', job.path);
    else {
      files.set(job.path, again.state);
      if (again.state.type === 'file') retries.push({ path: job.path, state: again.state, md5: job.md5 });
    }
  });
  return retries;
}

/** The second and last look: what still cannot be read is unstable, unreadable or gone. */
function recordRetryResults(
  retries: readonly FileJob[],
  results: readonly HashResult[],
  files: Map<string, FileState>,
  problems: ProblemLog,
): void {
  retries.forEach((job, i) => {
    const result = results[i]!;
    if (result.sha256) {
      const known: KnownHash = { key: fastPathKey(job.state), sha256: result.sha256, ...(result.md5 && { md5: result.md5 }) };
      files.set(job.path, withHashes(job.state, known));
    } else if (result.problem === 'vanished') {
      files.delete(job.path);
      problems.note('vanished', job.path);
    } else
      problems.note(result.problem === 'unreadable' || result.problem === 'stuck' ? result.problem : 'unstable', job.path, result.detail);
  });
}

/** 5. Images that are a watched file take its hash, or its problem. */
function shareFileHashes(
  sameAsFile: readonly RunningImage[],
  files: ReadonlyMap<string, FileState>,
  imageHashes: Map<string, KnownHash>,
  imageProblems: Map<string, string>,
): void {
  for (const image of sameAsFile) {
    const onDisk = files.get(image.path);
    if (onDisk?.sha256) imageHashes.set(image.key, { key: image.key, sha256: onDisk.sha256, ...(onDisk.md5 && { md5: onDisk.md5 }) });
    else imageProblems.set(image.key, 'its file could not be read');
  }
}

/** 6. What the judgment sees of each running image: its hashes, or why there are none. */
function runningObservations(
  images: readonly RunningImage[],
  imageHashes: ReadonlyMap<string, KnownHash>,
  imageProblems: ReadonlyMap<string, string>,
): RunningObservation[] {
  return images.flatMap((image): RunningObservation[] => {
    const known = imageHashes.get(image.key);
    const problem = imageProblems.get(image.key);
    if (!known && !problem) return []; // exited before it was read
    // The image's identity without its ctime, which moves when the file is unlinked or replaced.
    const base = { path: image.path, deleted: image.deleted, pids: image.pids, key: image.key.slice(0, image.key.lastIndexOf(':')) };
    return [known ? { ...base, sha256: known.sha256, ...(known.md5 && { md5: known.md5 }) } : { ...base, problem: problem! }];
  });
}

function hostPath(rootfs: string, path: string): string {
  return rootfs === '/' ? path : join(rootfs, path);
}

function withHashes(state: FileState, known: KnownHash): FileState {
  return { ...state, sha256: known.sha256, ...(known.md5 !== undefined && { md5: known.md5 }) };
}

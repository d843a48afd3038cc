import { join } from 'node:path';
import type { IntegrityPolicy } from '../config/sections/integrity.js';
import type { ScanFs } from './scan-fs.js';
import { wantsMd5, type DpkgDatabase, type DpkgReader } from './dpkg.js';
import { fastPathKey, type FileState } from './file-state.js';
import { hashAll } from './hash-pool.js';
import type { HashJob, HashResult } from './hash-protocol.js';
import type { RunningImage, RunningImagesTrouble } from './running-images.js';
import type { RunningObservation } from './snapshot.js';
import { compileWatchScope, type WatchScope } from './watch-scope.js';

/**
 * A scan observes the watched files, the running executables and the package database. It reads
 * and hashes; it never judges (see judge.ts). Every call on the watched files and the running
 * executables is made by helper processes (src/isolated/), so a file system that stops answering
 * stops one of them, never the exporter; its mount is then skipped (problem `stuck`) and nothing
 * under it is reported removed. The fast path skips files whose size, inode, mtime and ctime match
 * a hash already known.
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
  const { policy, rootfs } = options;
  const scope = compileWatchScope(policy.paths, policy.exclude);
  const onHost = (path: string) => (rootfs === '/' ? path : join(rootfs, path));
  const problems: Record<ScanProblem, number> = { vanished: 0, unstable: 0, unreadable: 0, symlink_loop: 0, over_limit: 0, stuck: 0 };
  const examples: string[] = [];
  const note = (problem: ScanProblem, path: string, detail?: string) => {
    problems[problem]++;
    if (examples.length < 10) examples.push(`${problem}: ${path}${detail ? ` (${detail})` : ''}`);
  };

  // 1. List: lstat everything in scope.
  const walked = await options.fs.walk({ rootfs, paths: policy.paths, exclude: policy.exclude, maxPaths: policy.max_paths });
  const { trouble } = walked;
  const files = new Map<string, FileState>();
  for (const { path, state } of walked.entries) files.set(path, state);
  if (trouble.beyondLimit.length + trouble.unexpandedGlobs.length > 0) problems.over_limit = 1;
  problems.vanished += trouble.vanished;
  problems.symlink_loop += trouble.symlinkLoops;
  problems.unreadable += trouble.unreadableDirs.length;
  problems.stuck += trouble.stuck.length;
  examples.push(...trouble.examples.slice(0, 10 - examples.length));

  // 2. Running executables, then the package database for every path either names.
  const running = policy.running_executables ? await options.fs.runningImages({ procfs: options.procfs, rootfs: options.rootfs }) : undefined;
  let packages: DpkgDatabase | undefined;
  if (policy.package_database) {
    const wanted = new Set<string>();
    for (const [path, state] of files) if (state.type === 'file') wanted.add(path);
    for (const image of running?.images ?? []) wanted.add(image.path);
    packages = options.dpkg.read(wanted, scope);
  }
  const needsMd5 = (path: string) => packages !== undefined && wantsMd5(packages, path);

  // 3. What must be read: regular files and images not covered by the fast path.
  const fastPath = (known: KnownHash | undefined, key: string) => (!options.full && known !== undefined && known.key === key ? known : undefined);
  const reuse = (known: KnownHash | undefined, key: string, md5: boolean) => {
    const hit = fastPath(known, key);
    return hit && (!md5 || hit.md5 !== undefined) ? hit : undefined;
  };
  const fileJobs: FileJob[] = [];
  for (const [path, state] of files) {
    if (state.type !== 'file') continue;
    const md5 = needsMd5(path);
    const known = fastPath(options.known(path), fastPathKey(state));
    if (known && (!md5 || known.md5 !== undefined)) files.set(path, withHashes(state, known));
    else fileJobs.push({ path, state, md5, ...(known && { knownSha256: known.sha256 }) });
  }
  const imageJobs: RunningImage[] = [];
  const memoImages = new Map<string, KnownHash>();
  const imageHashes = new Map<string, KnownHash>();
  // An image that is the watched file itself (same inode and times) shares that file's hash.
  const sameAsFile: RunningImage[] = [];
  for (const image of running?.images ?? []) {
    const md5 = needsMd5(image.path);
    const onDisk = files.get(image.path);
    if (!image.deleted && onDisk?.type === 'file' && fastPathKey(onDisk) === fastPathKey(image.stat)) {
      sameAsFile.push(image);
      continue;
    }
    const known = reuse(options.knownImage(image.key), image.key, md5);
    if (known) imageHashes.set(image.key, known);
    else imageJobs.push(image);
  }

  // Largest first, so the last batches are small and both workers finish together.
  fileJobs.sort((a, b) => b.state.size - a.state.size);

  // 4. Hash, in helper processes. No jobs, no extra helpers: an unchanged tree costs only the lstat walk.
  let hashedFiles = 0;
  let hashedBytes = 0;
  const imageProblems = new Map<string, string>();
  if (fileJobs.length + imageJobs.length > 0) {
    const workers = Math.min(policy.hash_workers, fileJobs.length + imageJobs.length);
    const progress = (n: number, bytes: number) => {
      hashedFiles += n;
      hashedBytes += bytes;
      options.progress?.(hashedFiles, hashedBytes);
    };
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
      const imageRequests: HashJob[] = imageJobs.map((image) => ({ file: image.procExe, expect: image.stat, follow: true, sha256: true, md5: needsMd5(image.path), readsFrom: onHost(image.path) }));
      // One after the other, each over every helper: both at once would take two lanes of the same helpers.
      const fileResults = await hashFiles(fileJobs);
      const imageResults = await hashAll(options.fs, imageRequests, imageJobs.map((i) => i.stat.size), workers, progress);
      // A file replaced or removed between the listing and the read gets one more look.
      const retries: FileJob[] = [];
      const toRelist: FileJob[] = [];
      fileJobs.forEach((job, i) => {
        const result = fileResults[i]!;
        const sha256 = result.sha256 ?? (result.problem ? undefined : job.knownSha256);
        if (sha256) {
          const known: KnownHash = { key: fastPathKey(job.state), sha256, ...(result.md5 && { md5: result.md5 }) };
          files.set(job.path, withHashes(job.state, known));
        } else if (result.problem === 'changed' || result.problem === 'vanished' || result.problem === 'unstable') toRelist.push(job);
        else note(result.problem === 'stuck' ? 'stuck' : 'unreadable', job.path, result.detail);
      });
      const relisted = await options.fs.relist(toRelist.map((job) => onHost(job.path)));
      toRelist.forEach((job, i) => {
        const again = relisted[i];
        if (again === undefined) {
          files.delete(job.path);
          note('vanished', job.path);
        } else if ('stuck' in again) note('stuck', job.path);
        else {
          files.set(job.path, again.state);
          if (again.state.type === 'file') retries.push({ path: job.path, state: again.state, md5: job.md5 });
        }
      });
      const retryResults = await hashFiles(retries);
      retries.forEach((job, i) => {
        const result = retryResults[i]!;
        if (result.sha256) {
          const known: KnownHash = { key: fastPathKey(job.state), sha256: result.sha256, ...(result.md5 && { md5: result.md5 }) };
          files.set(job.path, withHashes(job.state, known));
        } else if (result.problem === 'vanished') {
          files.delete(job.path);
          note('vanished', job.path);
        } else note(result.problem === 'unreadable' || result.problem === 'stuck' ? result.problem : 'unstable', job.path, result.detail);
      });
      imageJobs.forEach((image, i) => {
        const result = imageResults[i]!;
        if (result.sha256) imageHashes.set(image.key, { key: image.key, sha256: result.sha256, ...(result.md5 && { md5: result.md5 }) });
        else if (result.problem === 'vanished') running!.trouble.gone += image.pids.length;
        else imageProblems.set(image.key, `${result.problem}${result.detail ? ` (${result.detail})` : ''}`);
      });
    } finally {
      options.fs.endScan();
    }
  } else options.fs.endScan();
  for (const image of sameAsFile) {
    const onDisk = files.get(image.path);
    if (onDisk?.sha256) imageHashes.set(image.key, { key: image.key, sha256: onDisk.sha256, ...(onDisk.md5 && { md5: onDisk.md5 }) });
    else imageProblems.set(image.key, 'its file could not be read');
  }
  for (const [key, known] of imageHashes) memoImages.set(key, known);

  const runningObservations = (running?.images ?? []).flatMap((image): RunningObservation[] => {
    const known = imageHashes.get(image.key);
    const problem = imageProblems.get(image.key);
    if (!known && !problem) return []; // exited before it was read
    // The image's identity without its ctime, which moves when the file is unlinked or replaced.
    const base = { path: image.path, deleted: image.deleted, pids: image.pids, key: image.key.slice(0, image.key.lastIndexOf(':')) };
    return [known ? { ...base, sha256: known.sha256, ...(known.md5 && { md5: known.md5 }) } : { ...base, problem: problem! }];
  });

  const observation: Observation = {
    mode: options.full ? 'full' : 'fast',
    startedAt,
    finishedAt: new Date(),
    scope,
    files,
    unreadableDirs: [...trouble.unreadableDirs, ...trouble.beyondLimit, ...trouble.stuck],
    unexpandedGlobs: trouble.unexpandedGlobs,
    problems,
    problemExamples: examples,
    hashedFiles,
    hashedBytes,
    ...(running && { running: { images: runningObservations, trouble: running.trouble } }),
    ...(packages && { packages }),
  };
  return { observation, images: memoImages };
}

function withHashes(state: FileState, known: KnownHash): FileState {
  return { ...state, sha256: known.sha256, ...(known.md5 !== undefined && { md5: known.md5 }) };
}

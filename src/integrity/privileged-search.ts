import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FileState } from './file-state.js';
import type { HashJob, HashResult } from './hash-protocol.js';
import { mountNamespace } from '../procfs/namespaces.js';
import { mountsToSearch, parseMountinfo } from './mounts.js';
import type { PrivilegedCandidate, PrivilegedFile, WalkerMessage, WalkerRequest } from './privileged-protocol.js';

/**
 * The search for setuid, setgid and file-capability files anywhere on the host's local file
 * systems (`find / -xdev -perm /6000` on each, and `getcap`), not only under watched paths: the
 * classic `chmod u+s` or `setcap` backdoor in /tmp or a home directory. The walk runs on a thread
 * of its own at a bounded rate; the few files it finds are hashed by `hash` (a helper process, so
 * that a file system that stops answering cannot freeze the exporter).
 */
export const capabilityStates = ['checked', 'unavailable', 'off'] as const;
export type CapabilityState = (typeof capabilityStates)[number];

export interface PrivilegedObservation {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly files: readonly PrivilegedFile[];
  /** Mount points walked. */
  readonly mountPoints: readonly string[];
  /** The directory the host's files were read under: --path.rootfs, or /proc/1/root from a mount namespace of our own. */
  readonly readThrough: string;
  readonly entries: number;
  readonly unreadableDirs: number;
  /** checked: getcap read them; unavailable: no getcap on this host (libcap2-bin); off: the policy said not to. */
  readonly capabilities: CapabilityState;
  readonly capabilitiesUnchecked: number;
  readonly examples: readonly string[];
}

export interface PrivilegedSearchOptions {
  readonly rootfs: string;
  readonly procfs: string;
  readonly exclude: readonly string[];
  readonly capabilities: boolean;
  /** 0: as fast as the disk goes (learning, with an operator waiting). */
  readonly maxEntriesPerSecond: number;
  readonly signal?: AbortSignal;
  /** Hashes a batch, results in order: the exporter's helper processes (src/isolated/). */
  readonly hash: (jobs: readonly HashJob[]) => Promise<HashResult[]>;
}

/** Where getcap lives on Debian, Ubuntu, RHEL and Alpine (libcap2-bin, libcap, libcap-utils). */
const getcapLocations = ['/usr/sbin/getcap', '/sbin/getcap', '/usr/bin/getcap'];

export function findGetcap(): string | undefined {
  return getcapLocations.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The host's mounts: PID 1's view (the host's, also from a container with the host's /proc), else ours. */
function readMounts(procfs: string): ReturnType<typeof parseMountinfo> {
  for (const file of [`${procfs}/1/mountinfo`, `${procfs}/self/mountinfo`]) {
    try {
      return parseMountinfo(readFileSync(file, 'latin1'));
    } catch {
      // hidden from us (hidepid): try our own
    }
  }
  return [];
}

/**
 * Where the host's files are read. Under systemd's PrivateTmp or PrivateDevices the exporter has a
 * mount namespace of its own whose /tmp, /var/tmp and /dev are not the host's: exactly where a
 * backdoor is dropped. With the host's root (--path.rootfs /), the files are then read through
 * /proc/1/root, the root as PID 1 sees it (needs CAP_SYS_PTRACE, which the exporter has).
 */
function walkRoot(rootfs: string, procfs: string): string {
  if (rootfs !== '/') return rootfs;
  const own = mountNamespace(procfs, 'self');
  const host = mountNamespace(procfs, 1);
  if (own === undefined || host === undefined || own === host) return rootfs;
  try {
    accessSync(`${procfs}/1/root/`, constants.R_OK | constants.X_OK);
    return `${procfs}/1/root`;
  } catch {
    return rootfs; // PID 1's root is not ours to read: our own view, which the log of the caller does not hide
  }
}

export async function searchPrivilegedFiles(options: PrivilegedSearchOptions): Promise<PrivilegedObservation> {
  const startedAt = Date.now();
  const root = walkRoot(options.rootfs, options.procfs);
  const mounts = readMounts(options.procfs);
  // No mountinfo (a fixture /proc): the root file system alone.
  const searched = mounts.length > 0 ? mountsToSearch(mounts) : [];
  const mountPoints = mounts.length > 0 ? searched.map((m) => m.mountPoint) : ['/'];
  const getcap = options.capabilities ? findGetcap() : undefined;
  const request: WalkerRequest = {
    rootfs: root,
    mountPoints,
    otherMountPoints: [...new Set(mounts.map((m) => m.mountPoint))],
    exclude: options.exclude,
    maxEntriesPerSecond: options.maxEntriesPerSecond,
    getcap,
  };
  const walked = await runWalker(request, options.signal);
  const files = await hashCandidates(walked.candidates, root, options.hash);
  return {
    startedAt,
    finishedAt: Date.now(),
    files,
    mountPoints,
    readThrough: root,
    entries: walked.entries,
    unreadableDirs: walked.unreadableDirs,
    capabilities: !options.capabilities ? 'off' : getcap ? 'checked' : 'unavailable',
    capabilitiesUnchecked: walked.capabilitiesUnchecked,
    examples: walked.examples,
  };
}

function runWalker(request: WalkerRequest, signal: AbortSignal | undefined): Promise<Extract<WalkerMessage, { kind: 'done' }>['result']> {
  return new Promise((resolve, reject) => {
    const worker = spawnWalker(request);
    const abort = () => {
      void worker.terminate();
      reject(new Error('privileged-file search stopped'));
    };
    signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (message: WalkerMessage) => {
      signal?.removeEventListener('abort', abort);
      void worker.terminate();
      if (message.kind === 'done') resolve(message.result);
      else reject(new Error(`privileged-file search failed: ${message.error}`));
    });
    worker.once('error', (error) => {
      signal?.removeEventListener('abort', abort);
      reject(error);
    });
  });
}

function spawnWalker(request: WalkerRequest): Worker {
  if (import.meta.url.endsWith('.ts')) {
    // From sources (vitest, tsx): the worker boots tsx first, as the hash pool's does.
    const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
    const tsx = pathToFileURL(join(dirname(tsxPackage), 'dist/esm/api/index.mjs')).href;
    const source = new URL('./privileged-worker.ts', import.meta.url).href;
    return new Worker(
      `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(source)}, ${JSON.stringify(import.meta.url)}))`,
      { eval: true, workerData: request },
    );
  }
  return new Worker(new URL('./privileged-worker.js', import.meta.url), { workerData: request });
}

/** SHA-256 and MD5 of each privileged file (a handful): the judgment compares them with the baseline and dpkg. */
async function hashCandidates(
  candidates: readonly PrivilegedCandidate[],
  rootfs: string,
  hash: PrivilegedSearchOptions['hash'],
): Promise<PrivilegedFile[]> {
  const states = candidates.map((c): FileState => ({
    type: 'file',
    mode: c.mode,
    uid: c.uid,
    gid: c.gid,
    size: c.size,
    inode: c.inode,
    mtimeNs: c.mtimeNs,
    ctimeNs: c.ctimeNs,
  }));
  if (candidates.length === 0) return [];
  const results = await hash(
    candidates.map((c, i) => ({
      file: rootfs === '/' ? c.path : join(rootfs, c.path),
      expect: states[i]!,
      follow: false,
      sha256: true,
      md5: true,
    })),
  );
  return candidates.map((c, i) => {
    const result = results[i]!;
    const state = { ...states[i]!, ...(result.sha256 && { sha256: result.sha256 }), ...(result.md5 && { md5: result.md5 }) };
    return { path: c.path, state, ...(c.capability !== undefined && { capability: c.capability }) };
  });
}

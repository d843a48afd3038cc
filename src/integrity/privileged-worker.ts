import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { compileGlob } from '../match/glob.js';
import { decodeName, fsPath } from './fs-names.js';
import type { PrivilegedCandidate, WalkerMessage, WalkerRequest, WalkerResult } from './privileged-protocol.js';

/**
 * The walker thread of the privileged-file search: lists every directory of the given mounts
 * with synchronous calls (off the main thread, so scrapes never wait for it), lstat's regular
 * files for their setuid and setgid bits, and asks getcap for the capabilities of executables
 * (a file capability acts only at execve, so a file without an execute bit has no effect until
 * someone chmods it, which changes its ctime and is found on the next search).
 */
const setIdBits = 0o6000;
const anyExecute = 0o111;
/** Paths per getcap run: far below ARG_MAX. */
const getcapBatch = 2000;

function walk(request: WalkerRequest): WalkerResult {
  const onHost = (path: string) => (request.rootfs === '/' ? path : join(request.rootfs, path));
  const excluded = request.exclude.map((pattern) => compileGlob(pattern));
  const isExcluded = (path: string) => excluded.length > 0 && excluded.some((matches) => matches(path));
  const limiter = rateLimiter(request.maxEntriesPerSecond);
  const candidates: PrivilegedCandidate[] = [];
  const executables: string[] = [];
  const examples: string[] = [];
  let entries = 0;
  let unreadableDirs = 0;

  for (const mountPoint of request.mountPoints) {
    const skip = new Set(request.otherMountPoints.filter((p) => p !== mountPoint));
    let device: number;
    try {
      device = lstatSync(fsPath(onHost(mountPoint))).dev;
    } catch {
      continue; // gone since mountinfo was read
    }
    const stack = [mountPoint];
    for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
      const listing = list(onHost(dir));
      if (listing === undefined) {
        unreadableDirs++;
        if (examples.length < 10) examples.push(`unreadable: ${dir}`);
        continue;
      }
      for (const { name, type } of listing) {
        limiter(++entries);
        if (type === 'other') continue;
        const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
        // A mount point (of any type: files can be bind-mounted too) is never touched from another walk.
        if (skip.has(path) || (type === 'directory' && isExcluded(path))) continue;
        // Number stats: half a million of them, and BigInt ones cost a fifth more CPU. Candidates get BigInt ones below.
        const stats = lstatSync(fsPath(onHost(path)), { throwIfNoEntry: false });
        if (stats?.isDirectory()) {
          // Another file system mounted here: walked on its own if it is local (-xdev).
          if (stats.dev === device && !isExcluded(path)) stack.push(path);
        } else if (stats?.isFile() && !isExcluded(path)) {
          if ((stats.mode & setIdBits) !== 0) {
            const candidate = candidateOf(path, onHost);
            if (candidate) candidates.push(candidate);
          }
          if ((stats.mode & anyExecute) !== 0) executables.push(path);
        }
      }
    }
  }
  const capabilities = request.getcap
    ? readCapabilities(request.getcap, executables, onHost)
    : { found: new Map<string, string>(), unchecked: 0 };
  const withCapabilities = addCapabilities(candidates, capabilities.found, onHost);
  return { candidates: withCapabilities, entries, unreadableDirs, capabilitiesUnchecked: capabilities.unchecked, examples };
}

/** From readdir's d_type; `unknown` (file systems that do not fill it in) is lstat'ed like the rest. */
type EntryType = 'directory' | 'file' | 'other' | 'unknown';

/** A directory's entries with their types from readdir (no stat), names decoded losslessly. */
function list(dir: string): Array<{ name: string; type: EntryType }> | undefined {
  const typeOf = (d: Dirent<string> | Dirent<Buffer>): EntryType => {
    if (d.isDirectory()) return 'directory';
    if (d.isFile()) return 'file';
    return d.isSymbolicLink() || d.isBlockDevice() || d.isCharacterDevice() || d.isFIFO() || d.isSocket() ? 'other' : 'unknown';
  };
  try {
    const entries = readdirSync(fsPath(dir), { withFileTypes: true });
    // A name that is not valid UTF-8 decodes with U+FFFD: list again as bytes, decoded losslessly.
    if (!entries.some((d) => d.name.includes('\uFFFD'))) return entries.map((d) => ({ name: d.name, type: typeOf(d) }));
    return readdirSync(fsPath(dir), { withFileTypes: true, encoding: 'buffer' }).map((d) => ({
      name: decodeName(d.name),
      type: typeOf(d),
    }));
  } catch {
    return undefined;
  }
}

/** Sleeps (this thread only) so that at most `perSecond` entries are examined each second. */
function rateLimiter(perSecond: number): (entries: number) => void {
  if (perSecond <= 0) return () => {};
  const started = performance.now();
  const cell = new Int32Array(new SharedArrayBuffer(4));
  return (entries) => {
    if (entries % 1000 !== 0) return;
    const ahead = (entries / perSecond) * 1000 - (performance.now() - started);
    if (ahead > 1) Atomics.wait(cell, 0, 0, ahead);
  };
}

/**
 * getcap's answer for the executables, in batches. It prints "PATH CAPS" for each file with
 * capabilities; the path is known, so the line is split where a known path ends. A name getcap
 * cannot be given exactly (not valid UTF-8) or whose line would be ambiguous (a newline in it) is
 * asked alone or counted as unchecked.
 */
function readCapabilities(
  getcap: string,
  executables: readonly string[],
  onHost: (path: string) => string,
): { found: Map<string, string>; unchecked: number } {
  const found = new Map<string, string>();
  let unchecked = 0;
  const plain: string[] = [];
  for (const path of executables) {
    if (/[\uDC80-\uDCFF]/.test(path)) unchecked++;
    else if (path.includes('\n')) {
      const answer = runGetcap(getcap, [onHost(path)]);
      if (answer === undefined) unchecked++;
      else if (answer.startsWith(`${onHost(path)} `)) found.set(path, answer.slice(onHost(path).length + 1).trim());
    } else plain.push(path);
  }
  for (let i = 0; i < plain.length; i += getcapBatch) {
    const batch = plain.slice(i, i + getcapBatch);
    const byHostPath = new Map(batch.map((p) => [onHost(p), p]));
    const answer = runGetcap(getcap, [...byHostPath.keys()]);
    if (answer === undefined) {
      unchecked += batch.length;
      continue;
    }
    for (const line of answer.split('\n')) {
      for (let space = line.indexOf(' '); space !== -1; space = line.indexOf(' ', space + 1)) {
        const path = byHostPath.get(line.slice(0, space));
        if (path !== undefined) {
          found.set(path, line.slice(space + 1).trim());
          break;
        }
      }
    }
  }
  return { found, unchecked };
}

function runGetcap(getcap: string, paths: readonly string[]): string | undefined {
  const result = spawnSync(getcap, paths, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  return result.error || result.status === null ? undefined : result.stdout;
}

/** What the judgment needs of a privileged file: a BigInt lstat (inode and times beyond 2^53). */
function candidateOf(path: string, onHost: (path: string) => string): PrivilegedCandidate | undefined {
  const stats = lstatSync(fsPath(onHost(path)), { bigint: true, throwIfNoEntry: false });
  if (!stats?.isFile()) return undefined;
  return {
    path,
    mode: Number(stats.mode & 0o7777n),
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    size: Number(stats.size),
    inode: String(stats.ino),
    mtimeNs: String(stats.mtimeNs),
    ctimeNs: String(stats.ctimeNs),
  };
}

/** Files with capabilities join the setuid/setgid ones (lstat'ed now if not already). */
function addCapabilities(
  candidates: PrivilegedCandidate[],
  capabilities: ReadonlyMap<string, string>,
  onHost: (path: string) => string,
): PrivilegedCandidate[] {
  const byPath = new Map(candidates.map((c) => [c.path, c]));
  for (const [path, capability] of capabilities) {
    const known = byPath.get(path);
    if (known) {
      byPath.set(path, { ...known, capability });
      continue;
    }
    const candidate = candidateOf(path, onHost);
    if (candidate) byPath.set(path, { ...candidate, capability });
  }
  return [...byPath.values()];
}

const request = workerData as WalkerRequest;
let message: WalkerMessage;
try {
  message = { kind: 'done', result: walk(request) };
} catch (error) {
  message = { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
}
parentPort?.postMessage(message);

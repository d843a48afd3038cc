import { lstatSync, opendirSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { compileGlob } from '../policy/glob.js';
import { isExcluded, type WatchScope } from './watch-scope.js';

/** One path found under the watched set, with its lstat (symbolic links are never followed). */
export interface WalkEntry {
  /** The host path (without --path.rootfs). */
  readonly path: string;
  readonly stats: BigIntStats;
  /** For symbolic links: the stored target. */
  readonly target?: string;
}

/** What went wrong while listing: counted and logged, never thrown. */
export interface WalkTrouble {
  /** Directories we could not list: paths below them are neither reported added nor removed. */
  readonly unreadableDirs: string[];
  vanished: number;
  symlinkLoops: number;
  /** A few examples, for the log. */
  readonly examples: string[];
}

export function newWalkTrouble(): WalkTrouble {
  return { unreadableDirs: [], vanished: 0, symlinkLoops: 0, examples: [] };
}

const yieldEvery = 512;

/**
 * Every path in scope, depth first, each once. Synchronous lstat/readdir in small slices (they are
 * microseconds each), yielding to the event loop every few hundred entries so scrapes stay fast.
 */
export async function* walkWatched(rootfs: string, scope: WatchScope, trouble: WalkTrouble, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  const seen = new Set<string>();
  let sinceYield = 0;
  const onHost = (path: string) => (rootfs === '/' ? path : join(rootfs, path));

  function note(problem: string, path: string): void {
    if (trouble.examples.length < 10) trouble.examples.push(`${problem}: ${path}`);
  }

  function entryOf(path: string): WalkEntry | undefined {
    let stats: BigIntStats;
    try {
      stats = lstatSync(onHost(path), { bigint: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A configured path that does not exist (no sudo installed) is normal; below a listed directory it vanished.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        trouble.unreadableDirs.push(path);
        note(code ?? 'error', path);
      }
      return undefined;
    }
    if (!stats.isSymbolicLink()) return { path, stats };
    try {
      const target = readlinkSync(onHost(path));
      checkLoop(path);
      return { path, stats, target };
    } catch {
      trouble.vanished++;
      return undefined;
    }
  }

  function checkLoop(path: string): void {
    try {
      statSync(onHost(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
        trouble.symlinkLoops++;
        note('symlink loop', path);
      }
    }
  }

  function listDir(path: string): string[] | undefined {
    try {
      const dir = opendirSync(onHost(path));
      const names: string[] = [];
      try {
        for (let d = dir.readSync(); d !== null; d = dir.readSync()) names.push(d.name);
      } finally {
        dir.closeSync();
      }
      return names.sort();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') trouble.vanished++;
      else {
        trouble.unreadableDirs.push(path);
        note(code ?? 'error', path);
      }
      return undefined;
    }
  }

  const childPath = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);

  /** Yield a path and, for a directory, everything below it. */
  async function* tree(path: string): AsyncGenerator<WalkEntry> {
    if (seen.has(path) || isExcluded(scope, path)) return;
    const entry = entryOf(path);
    if (!entry) return;
    seen.add(path);
    if (++sinceYield >= yieldEvery) {
      sinceYield = 0;
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
    yield entry;
    if (!entry.stats.isDirectory()) return;
    for (const name of listDir(path) ?? []) yield* tree(childPath(path, name));
  }

  /** Expand a glob segment by segment from `dir`; `**` walks the rest and tests the whole pattern. */
  async function* glob(dir: string, segments: readonly string[], index: number, matches: (p: string) => boolean): AsyncGenerator<WalkEntry> {
    if (index === segments.length) {
      yield* tree(dir);
      return;
    }
    const segment = segments[index]!;
    if (segment === '**' || segment.includes('**')) {
      yield* deepGlob(dir, matches);
      return;
    }
    if (!/[*?[]/.test(segment)) {
      yield* glob(childPath(dir, segment), segments, index + 1, matches);
      return;
    }
    const segmentMatches = compileGlob(segment); // one segment: `*` never crosses a slash
    for (const name of listDir(dir) ?? []) {
      if (segmentMatches(name)) yield* glob(childPath(dir, name), segments, index + 1, matches);
    }
  }

  async function* deepGlob(dir: string, matches: (p: string) => boolean): AsyncGenerator<WalkEntry> {
    for (const name of listDir(dir) ?? []) {
      const path = childPath(dir, name);
      if (matches(path)) {
        yield* tree(path);
        continue;
      }
      let isDir = false;
      try {
        isDir = lstatSync(onHost(path)).isDirectory();
      } catch {
        continue;
      }
      if (isDir && !isExcluded(scope, path)) yield* deepGlob(path, matches);
    }
  }

  for (const root of scope.roots) yield* tree(root);
  for (const { pattern, matches } of scope.globs) {
    yield* glob('/', pattern.split('/').filter(Boolean), 0, matches);
  }
}

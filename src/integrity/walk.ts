import { lstatSync, opendirSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { decodeName, fsPath } from './fs-names.js';
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
  /** Paths not listed because the walk reached its limit: nothing below them is reported removed. */
  readonly beyondLimit: string[];
  vanished: number;
  symlinkLoops: number;
  /** A few examples, for the log. */
  readonly examples: string[];
}

export function newWalkTrouble(): WalkTrouble {
  return { unreadableDirs: [], beyondLimit: [], vanished: 0, symlinkLoops: 0, examples: [] };
}

const yieldEvery = 512;

type Work =
  | { readonly kind: 'tree'; readonly path: string }
  | { readonly kind: 'glob'; readonly dir: string; readonly segments: readonly string[]; readonly index: number }
  | { readonly kind: 'deep'; readonly dir: string; readonly matches: (path: string) => boolean };

/**
 * Every path in scope, depth first, each once, handed to `visit`. Synchronous lstat/readdir (they
 * are microseconds each) from an explicit stack, yielding to the event loop every few hundred
 * entries so scrapes stay fast while a large tree is listed.
 */
export async function walkWatched(
  rootfs: string,
  scope: WatchScope,
  trouble: WalkTrouble,
  visit: (entry: WalkEntry) => void,
  signal?: AbortSignal,
  maxEntries = Number.POSITIVE_INFINITY,
): Promise<void> {
  const seen = new Set<string>();
  const onHost = (path: string) => (rootfs === '/' ? path : join(rootfs, path));
  const childPath = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);

  const note = (problem: string, path: string): void => {
    if (trouble.examples.length < 10) trouble.examples.push(`${problem}: ${path}`);
  };

  const entryOf = (path: string): WalkEntry | undefined => {
    let stats: BigIntStats;
    try {
      stats = lstatSync(fsPath(onHost(path)), { bigint: true });
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
      const target = decodeName(readlinkSync(fsPath(onHost(path)), { encoding: 'buffer' }));
      if (isLoop(path)) {
        trouble.symlinkLoops++;
        note('symlink loop', path);
      }
      return { path, stats, target };
    } catch {
      trouble.vanished++;
      return undefined;
    }
  };

  const isLoop = (path: string): boolean => {
    try {
      statSync(fsPath(onHost(path)));
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ELOOP';
    }
  };

  /**
   * A directory's names, sorted; undefined when it holds more than `budget` (what is left of
   * maxEntries): such a directory is recorded as beyond the limit and not descended into, so
   * memory stays bounded and the same paths are listed on every scan.
   */
  const listDir = (path: string, budget = maxEntries - seen.size - stack.length): string[] | undefined => {
    try {
      // Names as bytes (Node supports it; its types do not say so), decoded losslessly.
      const dir = opendirSync(fsPath(onHost(path)) as string, { encoding: 'buffer' as BufferEncoding });
      const names: string[] = [];
      try {
        for (let d = dir.readSync(); d !== null; d = dir.readSync()) {
          if (names.length >= budget) {
            trouble.beyondLimit.push(path);
            note('over limit', path);
            return undefined;
          }
          names.push(decodeName(d.name as unknown as Buffer));
        }
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
      return [];
    }
  };

  const isDirectory = (path: string): boolean => {
    try {
      return lstatSync(fsPath(onHost(path))).isDirectory();
    } catch {
      return false;
    }
  };

  // Pushed in reverse so that they are taken in order.
  const stack: Work[] = [];
  for (const { pattern } of [...scope.globs].reverse()) stack.push({ kind: 'glob', dir: '/', segments: pattern.split('/').filter(Boolean), index: 0 });
  for (const path of [...scope.roots].reverse()) stack.push({ kind: 'tree', path });
  const globMatchers = new Map(scope.globs.map((g) => [g.pattern, g.matches]));

  let sinceYield = 0;
  for (let work = stack.pop(); work !== undefined; work = stack.pop()) {
    if (seen.size >= maxEntries) {
      // The limit: what is still to list is recorded, not listed, so nothing below it counts as removed.
      for (const pending of [work, ...stack]) trouble.beyondLimit.push(pending.kind === 'tree' ? pending.path : pending.dir);
      note('over limit', work.kind === 'tree' ? work.path : work.dir);
      break;
    }
    if (++sinceYield >= yieldEvery) {
      sinceYield = 0;
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
    if (work.kind === 'tree') {
      // A path and, for a directory, everything below it.
      if (seen.has(work.path) || isExcluded(scope, work.path)) continue;
      const entry = entryOf(work.path);
      if (!entry) continue;
      seen.add(work.path);
      visit(entry);
      if (!entry.stats.isDirectory()) continue;
      const names = listDir(work.path) ?? [];
      for (let i = names.length - 1; i >= 0; i--) stack.push({ kind: 'tree', path: childPath(work.path, names[i]!) });
    } else if (work.kind === 'glob') {
      // Expand a glob segment by segment; at `**`, walk the rest and test the whole pattern.
      const { dir, segments, index } = work;
      if (index === segments.length) {
        stack.push({ kind: 'tree', path: dir });
        continue;
      }
      const segment = segments[index]!;
      if (segment.includes('**')) {
        stack.push({ kind: 'deep', dir, matches: globMatchers.get('/' + segments.join('/')) ?? compileGlob('/' + segments.join('/')) });
      } else if (!/[*?[]/.test(segment)) {
        stack.push({ kind: 'glob', dir: childPath(dir, segment), segments, index: index + 1 });
      } else {
        const matches = compileGlob(segment); // one segment: `*` never crosses a slash
        const names = (listDir(dir) ?? []).filter(matches);
        for (let i = names.length - 1; i >= 0; i--) stack.push({ kind: 'glob', dir: childPath(dir, names[i]!), segments, index: index + 1 });
      }
    } else {
      const names = listDir(work.dir) ?? [];
      for (let i = names.length - 1; i >= 0; i--) {
        const path = childPath(work.dir, names[i]!);
        if (work.matches(path)) stack.push({ kind: 'tree', path });
        else if (!isExcluded(scope, path) && isDirectory(path)) stack.push({ kind: 'deep', dir: path, matches: work.matches });
      }
    }
  }
}

import { lstatSync, opendirSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { decodeName, fsPath } from './fs-names.js';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { compileGlob } from '../match/glob.js';
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
  /**
   * Glob patterns not expanded (fully) because the walk reached its limit: what they could match is
   * not reported removed, unless a root listed it. Recording the pattern, not the directory being
   * expanded (`/etc` for `/etc/cron.*`), keeps the roots listed there judged.
   */
  readonly unexpandedGlobs: string[];
  vanished: number;
  symlinkLoops: number;
  /** A few examples, for the log. */
  readonly examples: string[];
}

export function newWalkTrouble(): WalkTrouble {
  return { unreadableDirs: [], beyondLimit: [], unexpandedGlobs: [], vanished: 0, symlinkLoops: 0, examples: [] };
}

const yieldEvery = 512;

type Work =
  | { readonly kind: 'tree'; readonly path: string }
  | { readonly kind: 'glob'; readonly pattern: string; readonly dir: string; readonly segments: readonly string[]; readonly index: number }
  | { readonly kind: 'deep'; readonly pattern: string; readonly dir: string; readonly matches: (path: string) => boolean };

/** What `listDir` answers for a directory with more (kept) names than the walk has room for. */
const overLimit = Symbol('over limit');

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
   * A directory's names that `keep` accepts, sorted; `overLimit` when they are more than `budget`
   * (what is left of maxEntries). Names `keep` rejects cost nothing: expanding /etc/cron.* must not
   * charge every name in /etc. The caller records what it could not list, so memory stays bounded
   * and the same paths are listed on every scan.
   */
  const listDir = (path: string, keep: (name: string) => boolean = () => true): string[] | typeof overLimit => {
    const budget = maxEntries - seen.size - stack.length;
    try {
      // Names as bytes (Node supports it; its types do not say so), decoded losslessly.
      const dir = opendirSync(fsPath(onHost(path)) as string, { encoding: 'buffer' as BufferEncoding });
      const names: string[] = [];
      try {
        for (let d = dir.readSync(); d !== null; d = dir.readSync()) {
          const name = decodeName(d.name as unknown as Buffer);
          if (!keep(name)) continue;
          if (names.length >= budget) return overLimit;
          names.push(name);
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

  const dirOverLimit = (path: string): void => {
    trouble.beyondLimit.push(path);
    note('over limit', path);
  };
  const globOverLimit = (pattern: string): void => {
    if (trouble.unexpandedGlobs.includes(pattern)) return;
    trouble.unexpandedGlobs.push(pattern);
    note('over limit', pattern);
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
  for (const { pattern } of [...scope.globs].reverse()) stack.push({ kind: 'glob', pattern, dir: '/', segments: pattern.split('/').filter(Boolean), index: 0 });
  for (const path of [...scope.roots].reverse()) stack.push({ kind: 'tree', path });
  const globMatchers = new Map(scope.globs.map((g) => [g.pattern, g.matches]));

  let sinceYield = 0;
  for (let work = stack.pop(); work !== undefined; work = stack.pop()) {
    if (seen.size >= maxEntries) {
      // The limit: what is still to list is recorded, not listed, so nothing below it counts as removed.
      // A pending glob is recorded as its pattern: its `dir` may be `/`, which would hide every removal.
      if (work.kind === 'tree') note('over limit', work.path);
      for (const pending of [work, ...stack]) {
        if (pending.kind === 'tree') trouble.beyondLimit.push(pending.path);
        else globOverLimit(pending.pattern);
      }
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
      const names = listDir(work.path);
      if (names === overLimit) dirOverLimit(work.path);
      else for (let i = names.length - 1; i >= 0; i--) stack.push({ kind: 'tree', path: childPath(work.path, names[i]!) });
    } else if (work.kind === 'glob') {
      // Expand a glob segment by segment; at `**`, walk the rest and test the whole pattern.
      const { pattern, dir, segments, index } = work;
      if (index === segments.length) {
        stack.push({ kind: 'tree', path: dir });
        continue;
      }
      const segment = segments[index]!;
      if (segment.includes('**')) {
        stack.push({ kind: 'deep', pattern, dir, matches: globMatchers.get(pattern) ?? compileGlob(pattern) });
      } else if (!/[*?[]/.test(segment)) {
        stack.push({ kind: 'glob', pattern, dir: childPath(dir, segment), segments, index: index + 1 });
      } else {
        const names = listDir(dir, compileGlob(segment)); // one segment: `*` never crosses a slash
        if (names === overLimit) globOverLimit(pattern);
        else for (let i = names.length - 1; i >= 0; i--) stack.push({ kind: 'glob', pattern, dir: childPath(dir, names[i]!), segments, index: index + 1 });
      }
    } else {
      // Only what matches or may hold a match counts against the limit.
      const { pattern, dir, matches } = work;
      const wanted = (path: string) => matches(path) || (!isExcluded(scope, path) && isDirectory(path));
      const names = listDir(dir, (name) => wanted(childPath(dir, name)));
      if (names === overLimit) globOverLimit(pattern);
      else {
        for (let i = names.length - 1; i >= 0; i--) {
          const path = childPath(dir, names[i]!);
          stack.push(matches(path) ? { kind: 'tree', path } : { kind: 'deep', pattern, dir: path, matches });
        }
      }
    }
  }
}

import { isGlob } from '../match/glob.js';
import type { FileState } from './file-state.js';
import { isInScope, selfAndAncestors, type WatchScope } from './watch-scope.js';

/**
 * Which directories the real-time watch puts an inotify watch on, and what an event in one of them
 * means. Pure: the existence probe is handed in.
 *
 * inotify reports changes to the entries of a watched directory (created, written, renamed,
 * deleted, chmod, chown), so a watch on a directory covers the files in it. Watched are:
 * - every directory of the last observation (in scope: the watched trees);
 * - for each literal root, its nearest existing ancestor: a file replaced by a rename
 *   (`/etc/passwd` as `vipw` writes it), a root that does not exist yet (`/etc/ld.so.preload`), a
 *   directory replaced whole (`mv new /etc/cron.d`) all show there;
 * - for each glob, the directory before its first wildcard (`/etc` for `/etc/cron.*`).
 */
export interface WatchPlan {
  /** Host paths of the directories to watch. */
  readonly directories: ReadonlySet<string>;
}

export function planWatches(scope: WatchScope, files: ReadonlyMap<string, FileState>, isDirectory: (path: string) => boolean): WatchPlan {
  const directories = new Set<string>();
  for (const [path, state] of files) if (state.type === 'directory') directories.add(path);
  for (const root of scope.roots) {
    const anchor = nearestExisting(parentOf(root), isDirectory);
    if (anchor !== undefined) directories.add(anchor);
  }
  for (const { pattern } of scope.globs) {
    const anchor = nearestExisting(globPrefix(pattern), isDirectory);
    if (anchor !== undefined) directories.add(anchor);
  }
  return { directories };
}

/** The directory part of a glob before its first wildcard: `/etc` for `/etc/cron.*`. */
export function globPrefix(pattern: string): string {
  const segments = pattern.split('/');
  const fixed: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (isGlob(segment)) break;
    fixed.push(segment);
  }
  return fixed.join('/') || '/';
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function nearestExisting(path: string, isDirectory: (path: string) => boolean): string | undefined {
  return selfAndAncestors(path).find(isDirectory);
}

/**
 * What one event means. `path` is the entry the event names (the directory itself for events
 * about the watched directory).
 * - `changed`: a path in scope: read it again (its whole tree, for a directory);
 * - `structure`: a directory on the way to a watched path (an ancestor of a root or glob): the
 *   watches are planned again and the watched paths below it read again;
 * - `ignored`: a neighbour that is not watched (`/etc/motd` beside `/etc/passwd`).
 */
export type EventMeaning = { readonly kind: 'changed' | 'structure'; readonly targets: readonly string[] } | { readonly kind: 'ignored' };

export function meaningOf(scope: WatchScope, path: string): EventMeaning {
  if (isInScope(scope, path)) return { kind: 'changed', targets: [rescannable(path)] };
  const below = (p: string) => p.startsWith(path === '/' ? '/' : `${path}/`);
  const roots = scope.roots.filter(below);
  // A glob whose prefix is at or below the path is expanded again by the rescan.
  const globs = scope.globs.map((g) => g.pattern).filter((pattern) => below(pattern));
  if (roots.length === 0 && globs.length === 0) return { kind: 'ignored' };
  return { kind: 'structure', targets: [...roots, ...globs] };
}

/**
 * A path a rescan can be given as a root. A name with glob characters (`x[1]`) would be read as a
 * pattern and name other files: its nearest ancestor without them is read instead.
 */
function rescannable(path: string): string {
  return selfAndAncestors(path).find((p) => !isGlob(p)) ?? '/';
}

/**
 * The targets a batch of changes rescans: each once, and no literal path below another (a
 * directory's rescan reads its tree). Globs are kept as they are.
 */
export function coveringTargets(targets: Iterable<string>): string[] {
  const unique = [...new Set(targets)];
  const literal = unique.filter((t) => !isGlob(t)).sort((a, b) => a.length - b.length);
  const kept = new Set<string>();
  for (const path of literal) if (!selfAndAncestors(path).some((p) => kept.has(p))) kept.add(path);
  return [...kept, ...unique.filter(isGlob)];
}

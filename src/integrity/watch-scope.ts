import { compileGlob, isGlob, type PathMatcher } from '../match/glob.js';

/**
 * Which host paths the policy watches: `paths` (files, directories recursively, globs) minus
 * `exclude`. A path is in scope when it or one of its ancestors is watched and neither it nor
 * an ancestor is excluded. Pure: the judgment uses it to tell "removed" from "no longer watched".
 */
export interface WatchScope {
  /** Literal watched paths, normalized (no trailing slash). */
  readonly roots: readonly string[];
  /** Watched glob patterns, with their matchers. */
  readonly globs: ReadonlyArray<{ readonly pattern: string; readonly matches: PathMatcher }>;
  readonly excludes: readonly PathMatcher[];
}

export function compileWatchScope(paths: readonly string[], exclude: readonly string[]): WatchScope {
  const normalized = paths.map(normalizePath);
  return {
    roots: normalized.filter((p) => !isGlob(p)),
    globs: normalized.filter(isGlob).map((pattern) => ({ pattern, matches: compileGlob(pattern) })),
    excludes: exclude.map((p) => compileGlob(normalizePath(p))),
  };
}

export function normalizePath(path: string): string {
  const collapsed = path.replace(/\/+/g, '/');
  return collapsed.length > 1 ? collapsed.replace(/\/$/, '') : collapsed;
}

/** The path itself and each ancestor, longest first: /a/b/c, /a/b, /a, /. */
export function selfAndAncestors(path: string): string[] {
  const out = [path];
  let current = path;
  while (current !== '/' && current !== '') {
    const slash = current.lastIndexOf('/');
    current = slash <= 0 ? '/' : current.slice(0, slash);
    out.push(current);
  }
  return out;
}

export function isExcluded(scope: WatchScope, path: string): boolean {
  return scope.excludes.length > 0 && selfAndAncestors(path).some((p) => scope.excludes.some((m) => m(p)));
}

export function isInScope(scope: WatchScope, path: string): boolean {
  if (isExcluded(scope, path)) return false;
  const chain = selfAndAncestors(path);
  const roots = new Set(scope.roots);
  return chain.some((p) => roots.has(p) || scope.globs.some((g) => g.matches(p)));
}

import { lstatSync, opendirSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { decodeName, fsPath } from './fs-names.js';
import { join } from 'node:path';
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
  /** Paths not looked at because their file system is stuck: nothing below them is reported removed. */
  readonly stuck: string[];
  vanished: number;
  symlinkLoops: number;
  /** A few examples, for the log. */
  readonly examples: string[];
}

export function newWalkTrouble(): WalkTrouble {
  return { unreadableDirs: [], beyondLimit: [], unexpandedGlobs: [], stuck: [], vanished: 0, symlinkLoops: 0, examples: [] };
}

/** What the process running a walk learns and decides while it walks. */
export interface WalkHooks {
  /** Called with each host path (under --path.rootfs) right before a call of the file system on it. */
  readonly touch?: (hostPath: string) => void;
  /** Whether a host path lies on a file system known to be stuck: it is then recorded, never touched. */
  readonly skip?: (hostPath: string) => boolean;
}

type Work =
  | { readonly kind: 'tree'; readonly path: string }
  | { readonly kind: 'glob'; readonly pattern: string; readonly dir: string; readonly segments: readonly string[]; readonly index: number }
  | { readonly kind: 'deep'; readonly pattern: string; readonly dir: string; readonly matches: (path: string) => boolean };

/** What `listDir` answers for a directory with more (kept) names than the walk has room for. */
const overLimit = Symbol('over limit');

/** A path's parent-joined child, without a double slash under `/`. */
function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * Every path in scope, depth first, each once, handed to `visit`. Synchronous lstat/readdir from an
 * explicit stack: the walk runs in a helper process (src/isolated/), never on the exporter's event
 * loop, so a call that a stalled file system never answers stops only that process.
 */
export function walkWatched(
  rootfs: string,
  scope: WatchScope,
  trouble: WalkTrouble,
  visit: (entry: WalkEntry) => void,
  maxEntries = Number.POSITIVE_INFINITY,
  hooks: WalkHooks = {},
): void {
  new Walk(rootfs, scope, trouble, visit, maxEntries, hooks).run();
}

class Walk {
  private readonly seen = new Set<string>();
  /** Pushed in reverse so that they are taken in order. */
  private readonly stack: Work[] = [];
  private readonly globMatchers: ReadonlyMap<string, (path: string) => boolean>;

  constructor(
    private readonly rootfs: string,
    private readonly scope: WatchScope,
    private readonly trouble: WalkTrouble,
    private readonly visit: (entry: WalkEntry) => void,
    private readonly maxEntries: number,
    private readonly hooks: WalkHooks,
  ) {
    for (const { pattern } of [...scope.globs].reverse())
      this.stack.push({ kind: 'glob', pattern, dir: '/', segments: pattern.split('/').filter(Boolean), index: 0 });
    for (const path of [...scope.roots].reverse()) this.stack.push({ kind: 'tree', path });
    this.globMatchers = new Map(scope.globs.map((g) => [g.pattern, g.matches]));
  }

  run(): void {
    for (let work = this.stack.pop(); work !== undefined; work = this.stack.pop()) {
      if (this.seen.size >= this.maxEntries) {
        this.stopAtLimit(work);
        return;
      }
      if (work.kind === 'tree') this.tree(work);
      else if (work.kind === 'glob') this.glob(work);
      else this.deep(work);
    }
  }

  /** The limit: what is still to list is recorded, not listed, so nothing below it counts as removed. */
  private stopAtLimit(work: Work): void {
    // A pending glob is recorded as its pattern: its `dir` may be `/`, which would hide every removal.
    if (work.kind === 'tree') this.note('over limit', work.path);
    for (const pending of [work, ...this.stack]) {
      if (pending.kind === 'tree') this.trouble.beyondLimit.push(pending.path);
      else this.globOverLimit(pending.pattern);
    }
  }

  /** A path and, for a directory, everything below it. */
  private tree(work: Extract<Work, { kind: 'tree' }>): void {
    if (this.seen.has(work.path) || isExcluded(this.scope, work.path)) return;
    const entry = this.entryOf(work.path);
    if (!entry) return;
    this.seen.add(work.path);
    this.visit(entry);
    if (!entry.stats.isDirectory()) return;
    const names = this.listDir(work.path);
    if (names === overLimit) this.dirOverLimit(work.path);
    else for (let i = names.length - 1; i >= 0; i--) this.stack.push({ kind: 'tree', path: childPath(work.path, names[i]!) });
  }

  /** Expand a glob segment by segment; at `**`, walk the rest and test the whole pattern. */
  private glob(work: Extract<Work, { kind: 'glob' }>): void {
    const { pattern, dir, segments, index } = work;
    if (index === segments.length) {
      this.stack.push({ kind: 'tree', path: dir });
      return;
    }
    const segment = segments[index]!;
    if (segment.includes('**')) {
      this.stack.push({ kind: 'deep', pattern, dir, matches: this.globMatchers.get(pattern) ?? compileGlob(pattern) });
    } else if (!/[*?[]/.test(segment)) {
      this.stack.push({ kind: 'glob', pattern, dir: childPath(dir, segment), segments, index: index + 1 });
    } else {
      const names = this.listDir(dir, compileGlob(segment)); // one segment: `*` never crosses a slash
      if (names === overLimit) this.globOverLimit(pattern);
      else
        for (let i = names.length - 1; i >= 0; i--)
          this.stack.push({ kind: 'glob', pattern, dir: childPath(dir, names[i]!), segments, index: index + 1 });
    }
  }

  /** Only what matches or may hold a match counts against the limit. */
  private deep(work: Extract<Work, { kind: 'deep' }>): void {
    const { pattern, dir, matches } = work;
    const wanted = (path: string) => matches(path) || (!isExcluded(this.scope, path) && this.isDirectory(path));
    const names = this.listDir(dir, (name) => wanted(childPath(dir, name)));
    if (names === overLimit) {
      this.globOverLimit(pattern);
      return;
    }
    for (let i = names.length - 1; i >= 0; i--) {
      const path = childPath(dir, names[i]!);
      this.stack.push(matches(path) ? { kind: 'tree', path } : { kind: 'deep', pattern, dir: path, matches });
    }
  }

  private onHost(path: string): string {
    return this.rootfs === '/' ? path : join(this.rootfs, path);
  }

  /**
   * The host path of `path`, about to be handed to the file system; undefined when its file system
   * is stuck, which records the path so that nothing below it counts as removed.
   */
  private reach(path: string): string | undefined {
    const host = this.onHost(path);
    if (this.hooks.skip?.(host)) {
      if (!this.trouble.stuck.includes(path)) {
        this.trouble.stuck.push(path);
        this.note('stuck', path);
      }
      return undefined;
    }
    this.hooks.touch?.(host);
    return host;
  }

  private entryOf(path: string): WalkEntry | undefined {
    const host = this.reach(path);
    if (host === undefined) return undefined;
    let stats: BigIntStats;
    try {
      stats = lstatSync(fsPath(host), { bigint: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A configured path that does not exist (no sudo installed) is normal; below a listed directory it vanished.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        this.trouble.unreadableDirs.push(path);
        this.note(code ?? 'error', path);
      }
      return undefined;
    }
    if (!stats.isSymbolicLink()) return { path, stats };
    try {
      const target = decodeName(readlinkSync(fsPath(host), { encoding: 'buffer' }));
      if (this.isLoop(host)) {
        this.trouble.symlinkLoops++;
        this.note('symlink loop', path);
      }
      return { path, stats, target };
    } catch {
      this.trouble.vanished++;
      return undefined;
    }
  }

  private isLoop(host: string): boolean {
    try {
      statSync(fsPath(host));
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ELOOP';
    }
  }

  /**
   * A directory's names that `keep` accepts, sorted; `overLimit` when they are more than `budget`
   * (what is left of maxEntries). Names `keep` rejects cost nothing: expanding /etc/cron.* must not
   * charge every name in /etc. The caller records what it could not list, so memory stays bounded
   * and the same paths are listed on every scan.
   */
  private listDir(path: string, keep: (name: string) => boolean = () => true): string[] | typeof overLimit {
    const host = this.reach(path);
    if (host === undefined) return [];
    const budget = this.maxEntries - this.seen.size - this.stack.length;
    try {
      // Names as bytes (Node supports it; its types do not say so), decoded losslessly.
      const dir = opendirSync(fsPath(host) as string, { encoding: 'buffer' as BufferEncoding });
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
      if (code === 'ENOENT' || code === 'ENOTDIR') this.trouble.vanished++;
      else {
        this.trouble.unreadableDirs.push(path);
        this.note(code ?? 'error', path);
      }
      return [];
    }
  }

  private isDirectory(path: string): boolean {
    const host = this.reach(path);
    if (host === undefined) return false;
    try {
      return lstatSync(fsPath(host)).isDirectory();
    } catch {
      return false;
    }
  }

  private dirOverLimit(path: string): void {
    this.trouble.beyondLimit.push(path);
    this.note('over limit', path);
  }

  private globOverLimit(pattern: string): void {
    if (this.trouble.unexpandedGlobs.includes(pattern)) return;
    this.trouble.unexpandedGlobs.push(pattern);
    this.note('over limit', pattern);
  }

  private note(problem: string, path: string): void {
    if (this.trouble.examples.length < 10) this.trouble.examples.push(`${problem}: ${path}`);
  }
}

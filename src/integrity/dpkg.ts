import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isSettled, parseDpkgStatus, type StatusEntry } from './dpkg-status.js';
import type { InstalledPackage, PackageChecksum, PackageView } from './snapshot.js';
import { isInScope, type WatchScope } from './watch-scope.js';
import { ownCopy } from '../text/own-copy.js';

/**
 * dpkg's own record of what it installed: /var/lib/dpkg/info/PACKAGE.md5sums (what `debsums`
 * checks), the file lists, the status file (versions, states, configuration files' MD5s),
 * diversions, and when it last ran. A second source of known-good content that needs no baseline,
 * and what explains a change made by a package operation. Parsers are pure; `DpkgReader` reads
 * under --path.rootfs.
 */

export interface Md5sumsLine {
  readonly md5: string;
  /** Absolute path as the package ships it ("/bin/ls" on a merged-/usr host means /usr/bin/ls). */
  readonly path: string;
}

/** Each line of a text, without building the array of lines (an info/ directory holds ~250,000). */
function forEachLine(text: string, visit: (line: string) => void): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) visit(text.slice(start, end));
    start = end + 1;
  }
}

const md5Hex = /^[0-9a-f]{32}$/;

/** The path of an md5sums line, undefined for a malformed one; no regex, as most lines are looked at and dropped. */
function md5sumsPath(line: string): string | undefined {
  if (line.length < 35 || line.charCodeAt(32) !== 0x20) return undefined;
  const mark = line.charCodeAt(33);
  if (mark !== 0x20 && mark !== 0x2a) return undefined;
  let start = 34;
  while (line.charCodeAt(start) === 0x2f) start++;
  return start < line.length ? '/' + line.slice(start) : undefined;
}

/** `d41d8cd98f00b204e9800998ecf8427e  usr/bin/true` lines; malformed lines are skipped. */
export function parseMd5sums(text: string): Md5sumsLine[] {
  const out: Md5sumsLine[] = [];
  forEachLine(text, (line) => {
    const path = md5sumsPath(line);
    const md5 = line.slice(0, 32);
    if (path !== undefined && md5Hex.test(md5)) out.push({ md5: ownCopy(md5), path: ownCopy(path) });
  });
  return out;
}

export interface Diversion {
  readonly from: string;
  readonly to: string;
  /** The package that diverted, or ":" for a local diversion by the administrator. */
  readonly by: string;
}

/** /var/lib/dpkg/diversions: three lines per diversion (from, to, package). */
export function parseDiversions(text: string): Diversion[] {
  const lines = text.split('\n');
  const out: Diversion[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const [from, to, by] = [lines[i]!, lines[i + 1]!, lines[i + 2]!];
    if (from.startsWith('/') && to.startsWith('/') && by) out.push({ from: ownCopy(from), to: ownCopy(to), by: ownCopy(by) });
  }
  return out;
}

/** The newest "YYYY-MM-DD HH:MM:SS" line of a dpkg.log tail, as local time (dpkg writes local time). */
export function lastDpkgLogTime(text: string): Date | undefined {
  const lines = text.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) /.exec(lines[i]!);
    if (match) {
      const at = new Date(`${match[1]}T${match[2]}`);
      if (!Number.isNaN(at.getTime())) return at;
    }
  }
  return undefined;
}

/**
 * On a merged-/usr host /bin, /sbin and /lib are links into /usr: the packages name /bin/ls, the
 * kernel and the walk see /usr/bin/ls. Maps a package path to the path it really has.
 */
export function canonicalizer(topLevelLinks: ReadonlyMap<string, string>): (path: string) => string {
  if (topLevelLinks.size === 0) return (path) => path;
  return (path) => {
    const slash = path.indexOf('/', 1);
    const top = slash === -1 ? path : path.slice(0, slash);
    const target = topLevelLinks.get(top);
    return target === undefined ? path : target + (slash === -1 ? '' : path.slice(slash));
  };
}

/** One package's database entries as read from info/ and the status file (texts as they are: most lines are never looked at twice). */
interface PackageFiles {
  readonly entry: StatusEntry;
  readonly key: string;
  readonly md5sums: string;
  readonly list: string;
  readonly fingerprint: string;
}

/** Where a package's file really is: merged /usr applied, and a diversion by another package. */
function placement(diversions: readonly Diversion[], canonical: (path: string) => string): (name: string, path: string) => string {
  const diverted = new Map(diversions.map((d) => [canonical(d.from), d]));
  return (name, path) => {
    const at = canonical(path);
    const diversion = diverted.get(at);
    return diversion && diversion.by !== name ? canonical(diversion.to) : at;
  };
}

/**
 * The checksum of each wanted path, with diversions applied: a package's file at a diverted path
 * lives at the diversion's target, except for the diverting package's own file. A package's
 * configuration files are left out: an edited one is the administrator's, judged against the
 * baseline, never against the package (dpkg writes them into md5sums it generates itself).
 */
export function indexChecksums(
  packages: ReadonlyArray<{
    readonly name: string;
    readonly key?: string;
    readonly md5sums: string;
    readonly conffiles?: ReadonlySet<string>;
  }>,
  diversions: readonly Diversion[],
  canonical: (path: string) => string,
  wanted: ReadonlySet<string>,
): Map<string, PackageChecksum> {
  const place = placement(diversions, canonical);
  const index = new Map<string, PackageChecksum>();
  for (const pkg of packages) {
    forEachLine(pkg.md5sums, (line) => {
      const listed = md5sumsPath(line);
      if (listed === undefined || pkg.conffiles?.has(listed)) return;
      const path = place(pkg.name, listed);
      const md5 = line.slice(0, 32);
      // Copies of the path and checksum: slices would keep the whole md5sums text alive.
      if (wanted.has(path) && !index.has(path) && md5Hex.test(md5))
        index.set(ownCopy(path), { md5: ownCopy(md5), package: pkg.name, key: pkg.key ?? pkg.name });
    });
  }
  return index;
}

/** The configuration files' MD5s of every package, by path; obsolete ones (no longer shipped) left out. */
function indexConffiles(packages: readonly PackageFiles[], canonical: (path: string) => string): Map<string, PackageChecksum> {
  const index = new Map<string, PackageChecksum>();
  for (const { entry, key } of packages) {
    for (const c of entry.conffiles) {
      const path = canonical(c.path);
      if (!c.obsolete && !index.has(path)) index.set(path, { md5: c.md5, package: entry.name, key });
    }
  }
  return index;
}

/**
 * A cheap test for "may be in scope" before isInScope: a listed path (125,000 on a desktop) must
 * start with a watched root or the literal start of a watched glob, once placed. Before placing, a
 * listed path may also start with a top-level link (/bin on a merged /usr) or be diverted.
 */
function scopeTest(
  scope: WatchScope,
  links: ReadonlyMap<string, string>,
  diversions: readonly Diversion[],
): { listed: (path: string) => boolean; placed: (path: string) => boolean } {
  const prefixes = [...scope.roots, ...scope.globs.map((g) => g.pattern.slice(0, Math.max(1, g.pattern.search(/[*?[{]/))))];
  const moved = [...links.keys()];
  const diverted = new Set(diversions.map((d) => d.from));
  const starts = (path: string, list: readonly string[]) => list.some((p) => path.startsWith(p));
  return {
    listed: (path) =>
      starts(path, prefixes) ||
      moved.some((top) => path.startsWith(top) && (path.length === top.length || path[top.length] === '/')) ||
      diverted.has(path),
    placed: (path) => starts(path, prefixes) && isInScope(scope, path),
  };
}

/** Which packages list each watched path, and each package's watched paths. */
function indexOwners(packages: readonly PackageFiles[], place: (name: string, path: string) => string, test: ReturnType<typeof scopeTest>) {
  const owners = new Map<string, string[]>();
  const pathsOf = new Map<string, string[]>();
  for (const pkg of packages) {
    const mine: string[] = [];
    forEachLine(pkg.list, (listed) => {
      if (listed === '/.' || !test.listed(listed)) return;
      const placed = place(pkg.entry.name, listed);
      if (!test.placed(placed)) return;
      // Kept for as long as the database: a slice would keep the package's whole list alive.
      const path = ownCopy(placed);
      mine.push(path);
      const list = owners.get(path);
      if (list) {
        if (!list.includes(pkg.key)) list.push(pkg.key);
      } else owners.set(path, [pkg.key]);
    });
    pathsOf.set(pkg.key, [...new Set(mine)].sort());
  }
  return { owners, pathsOf };
}

/**
 * A regular file whose MD5 the judgment needs: one md5sums has a checksum for, a configuration
 * file, or the package's new version of one that dpkg put beside the administrator's copy
 * (`X.dpkg-dist`, `X.dpkg-new`).
 */
export function wantsMd5(packages: PackageView, path: string): boolean {
  return (
    packages.checksumOf(path) !== undefined ||
    packages.conffileOf(path) !== undefined ||
    packages.conffileOf(path.replace(/\.dpkg-(dist|new)$/, '')) !== undefined
  );
}

export interface DpkgDatabase extends PackageView {
  readonly present: boolean;
  /** Unix seconds: mtime of /var/lib/dpkg/status and the last line of /var/log/dpkg.log. */
  readonly statusChangedAt?: number;
  readonly logLastAt?: number | undefined;
}

const topLevelDirs = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export function readTopLevelLinks(rootfs: string): Map<string, string> {
  const links = new Map<string, string>();
  for (const dir of topLevelDirs) {
    try {
      if (!lstatSync(join(rootfs, dir)).isSymbolicLink()) continue;
      const target = readlinkSync(join(rootfs, dir));
      links.set(dir, target.startsWith('/') ? target : `/${target}`);
    } catch {
      // absent: nothing to map
    }
  }
  return links;
}

/** The last 64 KiB of a file: enough for the last dpkg.log lines without reading a large log. */
function readTail(file: string, bytes = 65536): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function readOr(file: string, fallback = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback; // absent (a package without md5sums), or removed by a concurrent dpkg run
  }
}

/**
 * Changes whenever dpkg installs, upgrades or removes a package (it replaces the status file and
 * files in info/ by rename: new inodes) or a diversion is added. 'none' without a dpkg database.
 */
export function dpkgSignature(rootfs: string): string {
  const base = join(rootfs, 'var/lib/dpkg');
  const identity = (file: string) => {
    try {
      const s = statSync(join(base, file), { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return '-';
    }
  };
  const status = identity('status');
  return status === '-' ? 'none' : [status, identity('info'), identity('diversions')].join('/');
}

const emptyDatabase: DpkgDatabase = {
  present: false,
  packages: new Map(),
  checksumOf: () => undefined,
  conffileOf: () => undefined,
  ownersOf: () => [],
};

export function scopeKey(scope: WatchScope | undefined): string {
  return scope ? JSON.stringify([scope.roots, scope.globs.map((g) => g.pattern), scope.excludes.length]) : '';
}

/**
 * Reads the dpkg database under `rootfs`, keeping checksums only for the wanted paths (all of
 * dpkg's checksums would be ~100,000 strings) and owners only for paths in the watch scope. The
 * parsed result is reused while dpkg has not run (same mtimes of status, info/ and diversions), the
 * scope is the same and no new path is wanted: reading every file list and md5sums file costs
 * ~0.2 s on a desktop-sized host. The paths kept grow to every path wanted since dpkg last ran, so
 * sets that alternate (processes starting and exiting) cost one re-read, not one a scan.
 */
export class DpkgReader {
  private cached: { signature: string; wanted: ReadonlySet<string>; database: DpkgDatabase } | undefined;

  constructor(readonly rootfs: string) {}

  read(wanted: ReadonlySet<string>, scope?: WatchScope): DpkgDatabase {
    const signature = dpkgSignature(this.rootfs) + scopeKey(scope);
    const previous = this.cached;
    if (previous && previous.signature === signature && [...wanted].every((p) => previous.wanted.has(p))) {
      return { ...previous.database, logLastAt: this.logLastAt() };
    }
    // While dpkg has not run, the union: paths of processes that come and go are re-read only once.
    const keep = previous && previous.signature === signature ? new Set([...previous.wanted, ...wanted]) : wanted;
    const database = this.readAll(keep, scope);
    this.cached = { signature, wanted: keep, database };
    return database;
  }

  private logLastAt(): number | undefined {
    try {
      const at = lastDpkgLogTime(readTail(join(this.rootfs, 'var/log/dpkg.log')));
      return at ? Math.floor(at.getTime() / 1000) : undefined;
    } catch {
      return undefined; // no dpkg.log (rotated away, or a minimal image): the status mtime still tells
    }
  }

  /**
   * Every package of the status file with its list and md5sums (Multi-Arch: same ones are named
   * "libc6:amd64.list"), and the checksums of md5sums files no status entry names (kept for
   * package_mismatch, as debsums does; they explain nothing).
   */
  private readPackages(base: string): { packages: PackageFiles[]; orphans: Array<{ name: string; md5sums: string }> } {
    const infoDir = join(base, 'info');
    let names = new Set<string>();
    try {
      names = new Set(readdirSync(infoDir));
    } catch {
      // no info directory: packages without lists or checksums
    }
    const used = new Set<string>();
    const packages = parseDpkgStatus(readOr(join(base, 'status'))).map((entry) => {
      const key = entry.architecture ? `${entry.name}:${entry.architecture}` : entry.name;
      const stem = names.has(`${key}.list`) || names.has(`${key}.md5sums`) ? key : entry.name;
      used.add(`${stem}.md5sums`);
      const list = readOr(join(infoDir, `${stem}.list`));
      const md5sums = readOr(join(infoDir, `${stem}.md5sums`));
      const fingerprint = createHash('sha256').update(entry.recorded).update('\0').update(list).update('\0').update(md5sums).digest('hex');
      return { entry, key, md5sums, list, fingerprint };
    });
    const orphans = [...names]
      .filter((n) => n.endsWith('.md5sums') && !used.has(n))
      .map((n) => ({ name: n.slice(0, -'.md5sums'.length).replace(/:.*$/, ''), md5sums: readOr(join(infoDir, n)) }));
    return { packages, orphans };
  }

  private readAll(wanted: ReadonlySet<string>, scope: WatchScope | undefined): DpkgDatabase {
    const base = join(this.rootfs, 'var/lib/dpkg');
    const status = mtimeOf(join(base, 'status'));
    if (status === undefined) return emptyDatabase;
    const { packages, orphans } = this.readPackages(base);
    const diversions = parseDiversions(readOr(join(base, 'diversions')));
    const links = readTopLevelLinks(this.rootfs);
    const canonical = canonicalizer(links);
    const checksums = indexChecksums(
      [
        ...packages.map((p) => ({
          name: p.entry.name,
          key: p.key,
          md5sums: p.md5sums,
          conffiles: new Set(p.entry.conffiles.map((c) => c.path)),
        })),
        ...orphans,
      ],
      diversions,
      canonical,
      new Set([...wanted].map(canonical)),
    );
    const conffiles = indexConffiles(packages, canonical);
    const { owners, pathsOf } = scope
      ? indexOwners(packages, placement(diversions, canonical), scopeTest(scope, links, diversions))
      : { owners: new Map<string, string[]>(), pathsOf: new Map<string, string[]>() };
    const installed = new Map<string, InstalledPackage>(
      packages.map((p) => [
        p.key,
        {
          key: p.key,
          version: p.entry.version,
          state: p.entry.state,
          settled: isSettled(p.entry),
          fingerprint: p.fingerprint,
          paths: pathsOf.get(p.key) ?? [],
        },
      ]),
    );
    const logLastAt = this.logLastAt();
    return {
      present: true,
      packages: installed,
      checksumOf: (path) => checksums.get(canonical(path)),
      conffileOf: (path) => conffiles.get(canonical(path)),
      ownersOf: (path) => owners.get(canonical(path)) ?? [],
      statusChangedAt: Math.floor(status / 1000),
      ...(logLastAt !== undefined && { logLastAt }),
    };
  }
}

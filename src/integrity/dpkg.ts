import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * dpkg's own record of what it installed: /var/lib/dpkg/info/PACKAGE.md5sums (what `debsums`
 * checks), diversions, and when it last ran. A second source of known-good content that needs no
 * baseline. Parsers are pure; `readDpkgDatabase` reads under --path.rootfs.
 */
export interface PackageChecksum {
  readonly md5: string;
  readonly package: string;
}

export interface Md5sumsLine {
  readonly md5: string;
  /** Absolute path as the package ships it ("/bin/ls" on a merged-/usr host means /usr/bin/ls). */
  readonly path: string;
}

/** `d41d8cd98f00b204e9800998ecf8427e  usr/bin/true` lines; malformed lines are skipped. */
export function parseMd5sums(text: string): Md5sumsLine[] {
  const out: Md5sumsLine[] = [];
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{32}) [ *](.+)$/.exec(line);
    if (match) out.push({ md5: match[1]!, path: '/' + match[2]!.replace(/^\/+/, '') });
  }
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
    if (from.startsWith('/') && to.startsWith('/') && by) out.push({ from, to, by });
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

/**
 * The checksum of each wanted path, with diversions applied: a package's file at a diverted path
 * lives at the diversion's target, except for the diverting package's own file.
 */
export function indexChecksums(
  packages: ReadonlyArray<{ readonly name: string; readonly lines: readonly Md5sumsLine[] }>,
  diversions: readonly Diversion[],
  canonical: (path: string) => string,
  wanted: ReadonlySet<string>,
): Map<string, PackageChecksum> {
  const diverted = new Map(diversions.map((d) => [canonical(d.from), d]));
  const index = new Map<string, PackageChecksum>();
  for (const pkg of packages) {
    for (const line of pkg.lines) {
      let path = canonical(line.path);
      const diversion = diverted.get(path);
      if (diversion && diversion.by !== pkg.name) path = canonical(diversion.to);
      // A copy of the checksum: the parsed one is a slice of the whole md5sums text, which it would keep alive.
      if (wanted.has(path) && !index.has(path)) index.set(path, { md5: Buffer.from(line.md5, 'latin1').toString('latin1'), package: pkg.name });
    }
  }
  return index;
}

export interface DpkgDatabase {
  readonly present: boolean;
  /** The package checksum of a host path (either spelling on a merged-/usr host), if any. */
  checksumOf(path: string): PackageChecksum | undefined;
  /** Unix seconds: mtime of /var/lib/dpkg/status and the last line of /var/log/dpkg.log. */
  readonly statusChangedAt?: number;
  readonly logLastAt?: number | undefined;
}

const topLevelDirs = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

function readTopLevelLinks(rootfs: string): Map<string, string> {
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

/**
 * Reads the dpkg database under `rootfs`, keeping checksums only for the wanted paths (all of
 * dpkg's checksums would be ~100,000 strings). The parsed result is reused while dpkg has not run
 * (same mtimes of status, info/ and diversions) and no new path is wanted: parsing every md5sums
 * file costs ~0.2 s on a desktop-sized host. The paths kept grow to every path wanted since dpkg
 * last ran, so sets that alternate (processes starting and exiting) cost one re-read, not one a scan.
 */
export class DpkgReader {
  private cached: { signature: string; wanted: ReadonlySet<string>; database: DpkgDatabase } | undefined;

  constructor(readonly rootfs: string) {}

  read(wanted: ReadonlySet<string>): DpkgDatabase {
    const base = join(this.rootfs, 'var/lib/dpkg');
    const signature = JSON.stringify([mtimeOf(join(base, 'status')), mtimeOf(join(base, 'info')), mtimeOf(join(base, 'diversions'))]);
    const previous = this.cached;
    if (previous && previous.signature === signature && [...wanted].every((p) => previous.wanted.has(p))) {
      return { ...previous.database, logLastAt: this.logLastAt() };
    }
    // While dpkg has not run, the union: paths of processes that come and go are re-read only once.
    const keep = previous && previous.signature === signature ? new Set([...previous.wanted, ...wanted]) : wanted;
    const database = this.readAll(keep);
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

  private readAll(wanted: ReadonlySet<string>): DpkgDatabase {
    const base = join(this.rootfs, 'var/lib/dpkg');
    const status = mtimeOf(join(base, 'status'));
    if (status === undefined) return { present: false, checksumOf: () => undefined };
    const infoDir = join(base, 'info');
    let names: string[] = [];
    try {
      names = readdirSync(infoDir).filter((n) => n.endsWith('.md5sums'));
    } catch {
      // no info directory: nothing to verify against
    }
    const packages = names.map((file) => {
      let lines: Md5sumsLine[] = [];
      try {
        lines = parseMd5sums(readFileSync(join(infoDir, file), 'utf8'));
      } catch {
        // a file removed by a concurrent dpkg run
      }
      // Multi-Arch packages are named "libc6:amd64.md5sums".
      return { name: file.slice(0, -'.md5sums'.length).replace(/:.*$/, ''), lines };
    });
    let diversions: Diversion[] = [];
    try {
      diversions = parseDiversions(readFileSync(join(base, 'diversions'), 'utf8'));
    } catch {
      // no diversions file
    }
    const canonical = canonicalizer(readTopLevelLinks(this.rootfs));
    const checksums = indexChecksums(packages, diversions, canonical, new Set([...wanted].map(canonical)));
    const logLastAt = this.logLastAt();
    return {
      present: true,
      checksumOf: (path) => checksums.get(canonical(path)),
      statusChangedAt: Math.floor(status / 1000),
      ...(logLastAt !== undefined && { logLastAt }),
    };
  }
}

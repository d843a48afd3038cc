import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-write.js';
import { canonicalizer, dpkgSignature, DpkgReader, lastDpkgLogTime, readTopLevelLinks, scopeKey, type DpkgDatabase } from './dpkg.js';
import type { InstalledPackage, PackageChecksum } from './snapshot.js';
import type { WatchScope } from './watch-scope.js';

/**
 * For `check`: what the judgment reads of the dpkg database (the packages with their fingerprints,
 * and the checksums of the paths the last run wanted), kept in the state directory while dpkg has
 * not run since (the same signature of its status, info/ and diversions the in-memory reuse of
 * DpkgReader compares, and the same watch scope). Parsing every list and md5sums file costs more
 * than the rest of a `check` of an unchanged tree; a process that runs once cannot keep it in memory.
 */
const format = 'hostguard-dpkg-database/2';

interface Stored {
  readonly signature: string;
  readonly packages: ReadonlyMap<string, InstalledPackage>;
  readonly checksums: ReadonlyMap<string, PackageChecksum | null>;
  readonly conffiles: ReadonlyMap<string, PackageChecksum | null>;
}

export class PersistentDpkgReader extends DpkgReader {
  private stored: Stored | undefined;
  private loaded = false;

  constructor(
    rootfs: string,
    private readonly file: string,
  ) {
    super(rootfs);
  }

  override read(wanted: ReadonlySet<string>, scope?: WatchScope): DpkgDatabase {
    const dpkg = dpkgSignature(this.rootfs);
    if (dpkg === 'none') return super.read(wanted, scope);
    const signature = dpkg + scopeKey(scope);
    const stored = this.load();
    if (stored && stored.signature === signature && [...wanted].every((p) => stored.checksums.has(p))) return this.fromStored(stored);
    const database = super.read(wanted, scope);
    const conffilePaths = new Set([...wanted].flatMap((p) => [p, p.replace(/\.dpkg-(dist|new|old)$/, '')]));
    this.stored = {
      signature,
      packages: database.packages,
      checksums: new Map([...wanted].map((p) => [p, database.checksumOf(p) ?? null])),
      conffiles: new Map([...conffilePaths].map((p) => [p, database.conffileOf(p) ?? null])),
    };
    const record = {
      format,
      signature,
      packages: [...this.stored.packages.values()],
      checksums: Object.fromEntries(this.stored.checksums),
      conffiles: Object.fromEntries(this.stored.conffiles),
    };
    try {
      writeFileAtomic(this.file, JSON.stringify(record) + '\n', 0o600);
    } catch {
      // best effort: the next check parses dpkg's files again
    }
    return database;
  }

  /** The owners of a path are the packages whose watched paths name it (the inverse of `paths`). */
  private fromStored(stored: Stored): DpkgDatabase {
    const canonical = canonicalizer(readTopLevelLinks(this.rootfs));
    const owners = new Map<string, string[]>();
    for (const pkg of stored.packages.values()) for (const path of pkg.paths) owners.set(path, [...(owners.get(path) ?? []), pkg.key]);
    const logLastAt = this.lastLogTime();
    const status = mtimeOf(join(this.rootfs, 'var/lib/dpkg/status')) ?? 0;
    return {
      present: true,
      packages: stored.packages,
      checksumOf: (path) => stored.checksums.get(path) ?? undefined,
      conffileOf: (path) => stored.conffiles.get(path) ?? undefined,
      ownersOf: (path) => owners.get(canonical(path)) ?? [],
      statusChangedAt: Math.floor(status / 1000),
      ...(logLastAt !== undefined && { logLastAt }),
    };
  }

  private load(): Stored | undefined {
    if (this.loaded) return this.stored;
    this.loaded = true;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, unknown>;
      if (raw['format'] !== format || typeof raw['signature'] !== 'string' || !Array.isArray(raw['packages'])) return undefined;
      const packages = new Map<string, InstalledPackage>();
      for (const value of raw['packages'] as unknown[]) {
        if (!isPackage(value)) return undefined;
        packages.set(value.key, value);
      }
      const checksums = checksumsOf(raw['checksums']);
      const conffiles = checksumsOf(raw['conffiles']);
      if (!checksums || !conffiles) return undefined;
      this.stored = { signature: raw['signature'], packages, checksums, conffiles };
    } catch {
      // none yet, or garbage: parsed again and rewritten
    }
    return this.stored;
  }

  private lastLogTime(): number | undefined {
    try {
      const at = lastDpkgLogTime(readTail(join(this.rootfs, 'var/log/dpkg.log')));
      return at ? Math.floor(at.getTime() / 1000) : undefined;
    } catch {
      return undefined;
    }
  }
}

function checksumsOf(value: unknown): Map<string, PackageChecksum | null> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const out = new Map<string, PackageChecksum | null>();
  for (const [path, entry] of Object.entries(value as Record<string, unknown>)) {
    if (entry === null) out.set(path, null);
    else if (isChecksum(entry)) out.set(path, { md5: entry.md5, package: entry.package, key: entry.key });
    else return undefined;
  }
  return out;
}

function isChecksum(value: unknown): value is PackageChecksum {
  const v = value as { md5?: unknown; package?: unknown; key?: unknown };
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof v.md5 === 'string' &&
    /^[0-9a-f]{32}$/.test(v.md5) &&
    typeof v.package === 'string' &&
    typeof v.key === 'string'
  );
}

function isPackage(value: unknown): value is InstalledPackage {
  const v = value as Partial<Record<keyof InstalledPackage, unknown>>;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof v.key === 'string' &&
    typeof v.version === 'string' &&
    typeof v.state === 'string' &&
    typeof v.settled === 'boolean' &&
    typeof v.fingerprint === 'string' &&
    Array.isArray(v.paths) &&
    v.paths.every((p) => typeof p === 'string')
  );
}

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The last 64 KiB of dpkg.log: its last line says when dpkg last ran. */
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

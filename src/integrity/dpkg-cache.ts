import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-write.js';
import { DpkgReader, lastDpkgLogTime, type DpkgDatabase } from './dpkg.js';
import type { PackageChecksum } from './snapshot.js';

/**
 * For `check`: the checksums dpkg recorded for the paths the last run wanted, kept in the state
 * directory while dpkg has not run since (the same mtimes of its status, info/ and diversions the
 * in-memory reuse of DpkgReader compares). Parsing every md5sums file costs more than the rest of
 * a `check` of an unchanged tree; a process that runs once cannot keep it in memory.
 */
const format = 'hostguard-dpkg-checksums/1';

interface Stored {
  readonly signature: string;
  readonly checksums: ReadonlyMap<string, PackageChecksum | null>;
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

  override read(wanted: ReadonlySet<string>): DpkgDatabase {
    const base = join(this.rootfs, 'var/lib/dpkg');
    const status = mtimeOf(join(base, 'status'));
    if (status === undefined) return super.read(wanted);
    const signature = JSON.stringify([status, mtimeOf(join(base, 'info')), mtimeOf(join(base, 'diversions'))]);
    const stored = this.load();
    if (stored && stored.signature === signature && [...wanted].every((p) => stored.checksums.has(p))) {
      const logLastAt = this.lastLogTime();
      return {
        present: true,
        checksumOf: (path) => stored.checksums.get(path) ?? undefined,
        statusChangedAt: Math.floor(status / 1000),
        ...(logLastAt !== undefined && { logLastAt }),
      };
    }
    const database = super.read(wanted);
    const checksums = new Map([...wanted].map((p) => [p, database.checksumOf(p) ?? null]));
    this.stored = { signature, checksums };
    try {
      writeFileAtomic(this.file, JSON.stringify({ format, signature, checksums: Object.fromEntries(checksums) }) + '\n', 0o600);
    } catch {
      // best effort: the next check parses dpkg's files again
    }
    return database;
  }

  private load(): Stored | undefined {
    if (this.loaded) return this.stored;
    this.loaded = true;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as { format?: unknown; signature?: unknown; checksums?: unknown };
      if (raw.format !== format || typeof raw.signature !== 'string' || raw.checksums === null || typeof raw.checksums !== 'object') return undefined;
      const checksums = new Map<string, PackageChecksum | null>();
      for (const [path, value] of Object.entries(raw.checksums as Record<string, unknown>)) {
        if (value === null) checksums.set(path, null);
        else if (isChecksum(value)) checksums.set(path, { md5: value.md5, package: value.package });
      }
      this.stored = { signature: raw.signature, checksums };
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

function isChecksum(value: unknown): value is PackageChecksum {
  const v = value as { md5?: unknown; package?: unknown };
  return typeof value === 'object' && value !== null && typeof v.md5 === 'string' && /^[0-9a-f]{32}$/.test(v.md5) && typeof v.package === 'string';
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

import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** One journal file as seen in a look at the journal directories. */
export interface JournalFile {
  readonly path: string;
  /** Written by journald now (`system.journal`, `user-1000.journal`), not an archive (`system@...journal`). */
  readonly active: boolean;
  /** Under /run/log/journal: the volatile journal, which journald moves to /var/log/journal when it flushes. */
  readonly runtime: boolean;
  /** The header's tail_entry_realtime, in ms: when its newest entry was written; undefined for an active file or an unreadable header. */
  readonly newestEntryMs: number | undefined;
}

/** The journal files by identity (device:inode): a rotation renames a file and keeps its inode. */
export interface JournalSnapshot {
  readonly files: ReadonlyMap<string, JournalFile>;
  /** A persistent journal (/var/log/journal) holds files: the volatile one is flushed into it. */
  readonly persistent: boolean;
}

/** The directories holding the journal a source reads: its path (or the directory of its file), else the system's. */
export function journalDirectories(path: string | undefined, rootfs: string): string[] {
  if (path !== undefined) return [isDirectory(path) ? path : dirname(path)];
  return [join(rootfs, 'var/log/journal'), join(rootfs, 'run/log/journal')];
}

/**
 * Look at the journal files in `dirs` and one level below (journald keeps them under the machine
 * id). Headers are read only for archives not seen in `previous`: an archive does not change.
 */
export function snapshotJournal(dirs: readonly string[], previous: JournalSnapshot | undefined): JournalSnapshot {
  const files = new Map<string, JournalFile>();
  let persistent = false;
  for (const dir of dirs) {
    const runtime = /(^|\/)run\/log\/journal\/?$/.test(dir);
    for (const path of journalFilesIn(dir)) {
      let key: string;
      try {
        const s = statSync(path, { bigint: true });
        if (!s.isFile()) continue;
        key = `${s.dev}:${s.ino}`;
      } catch {
        continue; // removed while listed
      }
      const active = !basename(path).includes('@');
      const known = previous?.files.get(key);
      const newestEntryMs = active ? undefined : known && !known.active ? known.newestEntryMs : readNewestEntryMs(path);
      files.set(key, { path, active, runtime, newestEntryMs });
      if (!runtime) persistent = true;
    }
  }
  return { files, persistent };
}

function journalFilesIn(dir: string): string[] {
  const found: string[] = [];
  const visit = (at: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && depth === 0) visit(join(at, entry.name), 1);
      else if (entry.isFile() && /\.journal~?$/.test(entry.name)) found.push(join(at, entry.name));
    }
  };
  visit(dir, 0);
  return found;
}

/** tail_entry_realtime from the journal file header (offset 192, little-endian microseconds; systemd's journal-def.h). */
function readNewestEntryMs(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(200);
    if (readSync(fd, header, 0, 200, 0) < 200 || header.toString('latin1', 0, 8) !== 'LPKSHHRH') return undefined;
    const micros = header.readBigUInt64LE(192);
    return micros === 0n ? undefined : Number(micros / 1000n);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return !path.endsWith('.journal');
  }
}

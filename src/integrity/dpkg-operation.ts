import { statSync } from 'node:fs';
import { join } from 'node:path';
import { processStartedAt, readLocks, type HeldLock } from '../procfs/locks.js';
import { dpkgSignature } from './dpkg.js';

/**
 * Whether a package operation is running: dpkg holds /var/lib/dpkg/lock while it changes anything,
 * and apt (and every front end) holds lock-frontend for its whole run. Read from /proc/locks, so the
 * exporter never takes, nor waits for, the locks itself. With the database's signature, two looks
 * (before and after a scan) tell whether the scan saw the database and the files in one state.
 */
export interface DpkgActivity {
  /** A process holds one of dpkg's locks. */
  readonly busy: boolean;
  /** The PIDs holding them (for the log). */
  readonly holders: readonly number[];
  /** When the earliest holder started (Unix seconds): the operation has run since, whoever looks. */
  readonly since?: number;
  /** dpkgSignature(): changes whenever dpkg writes its database. */
  readonly signature: string;
}

const lockFiles = ['var/lib/dpkg/lock-frontend', 'var/lib/dpkg/lock'];

/** glibc's split of st_dev into the major and minor numbers /proc/locks prints. */
function deviceNumbers(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

/** The holders of locks on `files` among `locks`: same device and inode. */
export function lockHolders(locks: readonly HeldLock[], files: ReadonlyArray<{ dev: bigint; ino: bigint }>): number[] {
  const wanted = files.map((f) => ({ ...deviceNumbers(f.dev), inode: String(f.ino) }));
  return locks.filter((l) => wanted.some((w) => w.inode === l.inode && w.major === l.major && w.minor === l.minor)).map((l) => l.pid);
}

export function dpkgActivity(rootfs: string, procfs: string): DpkgActivity {
  const signature = dpkgSignature(rootfs);
  const files = lockFiles.flatMap((file) => {
    try {
      const s = statSync(join(rootfs, file), { bigint: true });
      return [{ dev: s.dev, ino: s.ino }];
    } catch {
      return []; // no dpkg here, or never run
    }
  });
  const locks = files.length > 0 ? readLocks(procfs) : undefined;
  const holders = locks ? [...new Set(lockHolders(locks, files))] : [];
  const starts = holders.flatMap((pid) => (pid > 0 ? [processStartedAt(procfs, pid)] : [])).filter((t): t is number => t !== undefined);
  return { busy: holders.length > 0, holders, signature, ...(starts.length > 0 && { since: Math.min(...starts) }) };
}

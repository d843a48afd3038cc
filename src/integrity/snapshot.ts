/**
 * What a scan hands the judgment besides file states (file-state.ts): the running executables'
 * images and the package database's checksums. Types only: scan.ts and dpkg.ts fill them in.
 */

/** One running executable image, hashed through /proc/PID/exe. */
export interface RunningObservation {
  readonly path: string;
  readonly deleted: boolean;
  readonly pids: readonly number[];
  /**
   * Identity of the image (device, inode, size, mtime): the same while the process runs it, also
   * once the file is replaced on disk (unlinking moves the ctime, so it is left out).
   */
  readonly key?: string;
  readonly sha256?: string;
  readonly md5?: string;
  readonly problem?: string;
}

/** The MD5 dpkg recorded for a packaged file, and the package that owns it. */
export interface PackageChecksum {
  readonly md5: string;
  /** The package's name, as `dpkg -S` shows it. */
  readonly package: string;
  /** The package as the judgment keys it: name:architecture. */
  readonly key: string;
}

/** One package of the dpkg database as it is now. */
export interface InstalledPackage {
  /** name:architecture ("tree:amd64", "tzdata:all"). */
  readonly key: string;
  readonly version: string;
  /** installed, config-files (removed, its configuration kept), or a state dpkg is half-way through. */
  readonly state: string;
  /** Its files and its database entries agree (see dpkg-status.ts isSettled). */
  readonly settled: boolean;
  /** SHA-256 of its database entries: status (version, state, conffiles), file list and md5sums. */
  readonly fingerprint: string;
  /** The watched paths its file list names (diversions and the merged /usr applied), sorted. */
  readonly paths: readonly string[];
}

/** What the judgment reads of the dpkg database as it is now. */
export interface PackageView {
  readonly packages: ReadonlyMap<string, InstalledPackage>;
  /** The MD5 PACKAGE.md5sums records for a path; configuration files are left out (see conffileOf). */
  checksumOf(path: string): PackageChecksum | undefined;
  /** The MD5 the status file records for a configuration file, as its package shipped it. */
  conffileOf(path: string): PackageChecksum | undefined;
  /** The keys of the packages whose file list names a watched path. */
  ownersOf(path: string): readonly string[];
}

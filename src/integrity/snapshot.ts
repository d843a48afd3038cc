/**
 * What a scan hands the judgment besides file states (file-state.ts): the running executables'
 * images and the package database's checksums. Types only: scan.ts and dpkg.ts fill them in.
 */

/** One running executable image, hashed through /proc/PID/exe. */
export interface RunningObservation {
  readonly path: string;
  readonly deleted: boolean;
  readonly pids: readonly number[];
  readonly sha256?: string;
  readonly md5?: string;
  readonly problem?: string;
}

/** The MD5 dpkg recorded for a packaged file, and the package that owns it. */
export interface PackageChecksum {
  readonly md5: string;
  readonly package: string;
}

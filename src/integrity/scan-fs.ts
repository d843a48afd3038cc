import type { FileState } from './file-state.js';
import type { HashJob, HashResult } from './hash-protocol.js';
import type { RunningImage, RunningImagesTrouble } from './running-images.js';
import type { WalkTrouble } from './walk.js';

/**
 * Where a scan makes its calls on the watched files and the running executables: helper processes
 * (src/isolated/IsolatedFs), so that a file system that stops answering stops one of them, never
 * the exporter. A call on a mount known to be stuck answers `stuck` without touching it.
 */
export interface ScanFs {
  /** The walk of the watched paths; a stuck mount is recorded in `trouble.stuck`, not walked. */
  walk(walk: WalkRequest): Promise<WalkResult>;
  /** lstat (and readlink) of host paths again; undefined for one gone. */
  relist(paths: readonly string[]): Promise<Relisted[]>;
  runningImages(running: RunningImagesRequest): Promise<RunningImagesResult>;
  /** Hash a batch on the scan's helper `lane`; a job on a stuck mount answers problem `stuck`. */
  hash(jobs: readonly HashJob[], lane: number): Promise<HashResult[]>;
  /** The scan is over: its helpers may end. */
  endScan(): void;
}

export interface WalkRequest {
  readonly rootfs: string;
  readonly paths: readonly string[];
  readonly exclude: readonly string[];
  readonly maxPaths: number;
}

export interface WalkedPath {
  readonly path: string;
  readonly state: FileState;
}

export interface WalkResult {
  readonly entries: readonly WalkedPath[];
  readonly trouble: WalkTrouble;
}

export interface RunningImagesRequest {
  readonly procfs: string;
  readonly rootfs: string;
}

export interface RunningImagesResult {
  readonly images: RunningImage[];
  readonly trouble: RunningImagesTrouble;
}

/** A path listed again after it changed while it was hashed; undefined when it is gone. */
export type Relisted = { readonly state: FileState } | { readonly stuck: true } | undefined;

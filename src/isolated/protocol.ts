import type { HashJob } from '../integrity/hash-protocol.js';
import type { RunningImagesRequest, WalkRequest } from '../integrity/scan-fs.js';

/**
 * Messages between the exporter and a helper process (helper.ts), which makes the file-system
 * calls that a stalled file system may never answer. Requests and results go over the IPC channel
 * (structured clone); progress goes over a pipe of its own (fd 3), written synchronously by the
 * helper right before each call, so the exporter knows what the helper is stuck on even when it
 * is stuck for good.
 */

/** Every request carries what is known to be stuck: the helper never touches it. */
export interface Skips {
  /** Mount points whose file system does not answer. */
  readonly skipMounts: readonly string[];
  /** Processes whose root does not answer. */
  readonly skipPids: readonly number[];
}

export interface StatItem {
  /** Absolute path in the exporter's mount namespace. */
  readonly path: string;
  /** stat (follow a final symbolic link) rather than lstat. */
  readonly follow: boolean;
}

/** What the exporter needs of a stat: enough to tell modes, identity and change times. */
export interface PortableStat {
  readonly dev: string;
  readonly ino: string;
  readonly mode: number;
  readonly size: number;
  readonly ctimeMs: number;
}

export type StatOutcome = { readonly ok: true; readonly stat: PortableStat } | { readonly ok: false; readonly code: string };

export type Request =
  | ({ readonly id: number; readonly op: 'stat'; readonly items: readonly StatItem[] } & Skips)
  | ({ readonly id: number; readonly op: 'relist'; readonly paths: readonly string[] } & Skips)
  | ({ readonly id: number; readonly op: 'walk'; readonly walk: WalkRequest } & Skips)
  | ({ readonly id: number; readonly op: 'runningImages'; readonly running: RunningImagesRequest } & Skips)
  | ({ readonly id: number; readonly op: 'hash'; readonly jobs: readonly HashJob[] } & Skips);

/** A request as its sender writes it: the id is the helper process's to number. */
export type RequestBody = WithoutId<Request>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type Response =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * One line on the progress pipe: what the helper is about to touch, or a heartbeat (`{}`) while one
 * long call runs on (a large file read in chunks).
 */
export type Progress = { readonly mount?: string; readonly pid?: number; readonly ready?: true; readonly request?: number };

/** File descriptor of the progress pipe in the helper. */
export const progressFd = 3;

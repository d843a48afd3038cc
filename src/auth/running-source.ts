import type { Logger } from '../log/logger.js';
import { FileFollower } from '../tail/file-follower.js';
import type { FollowHealth } from '../tail/health.js';
import type { BackgroundReader } from '../tail/followed-sources.js';
import { JournaldFollower } from './journald-follower.js';
import type { AuthPipeline } from './pipeline.js';
import { positionFile, type AuthSourceSpec } from './sources.js';

export interface SourceCounters {
  readonly linesRead: number;
  readonly truncatedLines: number;
  readonly renameRotations: number;
  readonly truncations: number;
  readonly gaps: number;
  readonly readErrors: number;
  /** journalctl started again after it exited (journald sources). */
  readonly restarts: number;
}

export interface SourceStatus {
  readonly health: FollowHealth;
  readonly reason: string | undefined;
  readonly position: number | undefined;
  readonly lagBytes: number | undefined;
  readonly lastLineAt: number | undefined;
}

/** A source being followed in the background, feeding the pipeline (journald streams on its own: catchUp returns at once). */
export interface RunningSource extends BackgroundReader {
  /**
   * Apply a reloaded spec of the same source (same type and id: the same position file) to the
   * running follower. start_at is ignored: it only chooses where a source without a position begins.
   */
  reconfigure(spec: AuthSourceSpec): void;
  status(): SourceStatus;
  counters(): SourceCounters;
}

export function startSource(spec: AuthSourceSpec, pipeline: AuthPipeline, paths: { stateDir: string; rootfs: string }, log: Logger): RunningSource {
  const stateFile = positionFile(paths.stateDir, spec);
  if (spec.type === 'file') {
    const follower = new FileFollower({
      path: spec.path,
      stateFile,
      startAt: spec.startAt,
      log,
      persistMode: 'checkpoint',
      onLines: (lines) => pipeline.syslogLines(spec.id, lines),
    });
    follower.start();
    return {
      reconfigure: () => {},
      catchUp: (deadline) => follower.catchUp(deadline),
      checkpoint: () => follower.checkpoint(),
      status: () => follower.status(),
      counters: () => ({ ...follower.stats, restarts: 0 }),
      stop: (options) => follower.stop(options),
    };
  }
  const counts = pipeline.source(spec.id);
  const follower = new JournaldFollower({
    path: spec.path,
    rootfs: paths.rootfs,
    identifiers: spec.identifiers,
    cursorFile: stateFile,
    startAt: spec.startAt,
    log,
    persistMode: 'checkpoint',
    onEntry: (entry) => pipeline.record(spec.id, entry.record),
    onNotJson: () => counts.unparsed.not_json++,
  });
  follower.start();
  return {
    reconfigure: (next) => {
      if (next.type === 'journald') follower.setIdentifiers(next.identifiers);
    },
    catchUp: async () => {},
    checkpoint: () => follower.checkpoint(),
    status: () => ({ ...follower.status(), position: undefined, lagBytes: undefined }),
    counters: () => ({
      linesRead: follower.linesRead,
      truncatedLines: follower.truncatedLines,
      renameRotations: 0,
      truncations: 0,
      gaps: follower.gaps,
      readErrors: follower.readErrors,
      restarts: follower.restarts,
    }),
    stop: (options) => follower.stop(options),
  };
}

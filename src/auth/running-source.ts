import type { Logger } from '../log/logger.js';
import { FileFollower } from '../tail/file-follower.js';
import type { FollowHealth } from '../tail/health.js';
import type { BackgroundReader } from '../tail/followed-sources.js';
import { journalDirectories, snapshotJournal, type JournalSnapshot } from './journal-files.js';
import { JournaldFollower } from './journald-follower.js';
import { judgeFileChange, judgeJournalChange, needsEvidence, type TamperingLog } from './log-tampering.js';
import type { AuthPipeline } from './pipeline.js';
import { findCompressedCopy } from './rotation-evidence.js';
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
  /** Look for tampering that only a look finds (journal files removed); a file follower reports its own as it reads. */
  checkTampering(): void;
}

/** An archived journal file whose newest entry is younger than this is never removed by journald's own limits on a host with room for a day of logs. */
const recentJournalMs = 24 * 3_600_000;

export function startSource(
  spec: AuthSourceSpec,
  pipeline: AuthPipeline,
  tampering: TamperingLog,
  paths: { stateDir: string; rootfs: string },
  log: Logger,
): RunningSource {
  const stateFile = positionFile(paths.stateDir, spec);
  if (spec.type === 'file') {
    const follower = new FileFollower({
      path: spec.path,
      stateFile,
      startAt: spec.startAt,
      log,
      persistMode: 'checkpoint',
      onLines: (lines) => pipeline.syslogLines(spec.id, lines),
      onChange: (change) => {
        const found = judgeFileChange(change, {
          compressedCopy: needsEvidence(change) ? findCompressedCopy(change.path, change.fingerprint) : undefined,
        });
        if (!found) return;
        log.warn('auth log tampered with', { kind: found.kind, detail: found.detail });
        tampering.record(spec.id, found, `${change.device}:${change.inode}`);
      },
    });
    follower.start();
    return {
      reconfigure: () => {},
      catchUp: (deadline) => follower.catchUp(deadline),
      checkpoint: () => follower.checkpoint(),
      status: () => follower.status(),
      counters: () => ({ ...follower.stats, restarts: 0 }),
      checkTampering: () => {},
      stop: (options) => follower.stop(options),
    };
  }
  const journalDirs = journalDirectories(spec.path, paths.rootfs);
  let journal: JournalSnapshot = snapshotJournal(journalDirs, undefined);
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
    checkTampering: () => {
      const now = snapshotJournal(journalDirs, journal);
      for (const found of judgeJournalChange(journal, now, Date.now(), recentJournalMs)) {
        log.warn('journal tampered with', { path: found.path, detail: found.detail });
        tampering.record(spec.id, found);
      }
      journal = now;
    },
    stop: (options) => follower.stop(options),
  };
}

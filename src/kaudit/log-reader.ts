import { openSync, closeSync, fstatSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import { describeErrno } from '../state/state-dir.js';
import { FileFollower, type FollowerStats, type FollowerStatus, type StartAt } from '../tail/file-follower.js';
import type { BackgroundReader } from '../tail/followed-sources.js';
import type { FollowHealth } from '../tail/health.js';
import { keysOf, parseAuditRecord, rawField, type RecordProblem } from './record.js';
import { EventStitcher, type AuditEvent, type EventEnd } from './stitcher.js';

export interface AuditLogReaderOptions {
  /** auditd's log_file (/var/log/audit/audit.log), a host path. */
  readonly path: string;
  /** Where the position (and the records of events still open) is kept between runs. */
  readonly stateFile?: string;
  readonly startAt: StartAt;
  readonly log: Logger;
  readonly pollIntervalMs?: number;
  /** The stitcher's clock (ms): when an event without its last record is handed on. */
  readonly now?: () => number;
}

export interface AuditLogCounts {
  records: number;
  events: number;
  /** Lines that are no audit record, by why. */
  readonly unparsed: Record<RecordProblem, number>;
  /** Events handed on without their last record: after 2 s of silence, or evicted when too many were open. */
  incomplete: number;
}

/** Subscribe to every event, whatever its key. */
export const everyEvent = Symbol('every audit event');

type Handler = (event: AuditEvent) => void;

/**
 * The audit log followed like `tail -F` (the project's FileFollower: auditd's rotation by
 * `num_logs`, truncation, restarts), its lines parsed into records and stitched into events by
 * their serial, each event handed to the subscribers of its key (`-k` of the rule that logged it)
 * or of every event. Any record type and key: the exec source subscribes to every event, a
 * file-watch reader would subscribe to its own key (`hostguard_fim`) and read the PATH items.
 *
 * Positions are saved only by checkpoint() (FollowedSources' contract), together with the lines of
 * events still open, so an event split across a checkpoint, a rotation or a restart is handed on
 * once, whole.
 */
export class AuditLogReader implements BackgroundReader {
  readonly counts: AuditLogCounts = { records: 0, events: 0, unparsed: { no_type: 0, no_event_id: 0 }, incomplete: 0 };
  private readonly follower: FileFollower;
  private readonly stitcher: EventStitcher;
  private readonly everyHandlers: Handler[] = [];
  private readonly keyed = new Map<string, Handler[]>();

  constructor(options: AuditLogReaderOptions) {
    this.stitcher = new EventStitcher((event, end) => this.dispatch(event, end), { now: options.now });
    this.follower = new FileFollower({
      path: options.path,
      stateFile: options.stateFile,
      startAt: options.startAt,
      log: options.log,
      persistMode: 'checkpoint',
      pollIntervalMs: options.pollIntervalMs,
      // An audit record is at most ~8 KiB (the kernel's MAX_AUDIT_MESSAGE_LENGTH); ENRICHED adds its interpretations.
      maxLineBytes: 64 * 1024,
      onLines: (lines) => this.lines(lines),
      heldLines: () => this.stitcher.heldLines(),
    });
  }

  get path(): string {
    return this.follower.path;
  }

  /** Hand every event of `key` (or of every key) to `handler`; returns the unsubscription. */
  subscribe(key: string | typeof everyEvent, handler: Handler): () => void {
    const list = key === everyEvent ? this.everyHandlers : (this.keyed.get(key) ?? []);
    if (key !== everyEvent) this.keyed.set(key, list);
    list.push(handler);
    return () => {
      const at = list.indexOf(handler);
      if (at !== -1) list.splice(at, 1);
    };
  }

  start(): void {
    this.follower.start();
  }

  /** Read what is written, then hand on the events that stopped growing. */
  async catchUp(deadline: number): Promise<void> {
    await this.follower.catchUp(deadline);
    this.stitcher.flushIdle();
  }

  checkpoint(): void {
    this.follower.checkpoint();
  }

  stop(options?: { savePosition?: boolean }): Promise<void> {
    return this.follower.stop(options);
  }

  status(): FollowerStatus {
    return this.follower.status();
  }

  get followerStats(): Readonly<FollowerStats> {
    return this.follower.stats;
  }

  /** Synchronous: parse and stitch a batch of lines (the follower's onLines). */
  lines(lines: readonly string[]): void {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.length === 0) continue;
      const parsed = parseAuditRecord(line);
      if (!parsed.ok) {
        this.counts.unparsed[parsed.problem]++;
        continue;
      }
      this.counts.records++;
      this.stitcher.add(parsed.record);
    }
  }

  private dispatch(event: AuditEvent, end: EventEnd): void {
    this.counts.events++;
    if (end !== 'complete') this.counts.incomplete++;
    for (const handler of this.everyHandlers) handler(event);
    if (this.keyed.size === 0) return;
    const syscall = event.records.find((r) => r.type === 'SYSCALL') ?? event.records[0]!;
    for (const key of keysOf(rawField(syscall.body, 'key'))) for (const handler of this.keyed.get(key) ?? []) handler(event);
  }
}

/** What `check` can say of the log without following it: whether it is there and readable. */
export function probeAuditLog(path: string): { readonly health: FollowHealth; readonly reason: string | undefined } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) return { health: 'unreadable', reason: 'not a regular file' };
    return { health: 'ok', reason: undefined };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const health: FollowHealth =
      code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'EACCES' || code === 'EPERM' ? 'unreadable' : 'error';
    return { health, reason: describeErrno(error) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

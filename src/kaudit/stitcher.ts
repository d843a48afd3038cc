import type { AuditRecord } from './record.js';

/** The records of one audit event (one syscall, one userspace message), in the order they were written. */
export interface AuditEvent {
  readonly id: string;
  readonly timeMs: number;
  readonly serial: number;
  readonly records: readonly AuditRecord[];
}

/** Why an event was handed on: its last record came, or it was closed without one. */
export type EventEnd = 'complete' | 'timed_out' | 'evicted';

export interface StitcherOptions {
  /**
   * An event still open this long after its last record was read is handed on as it is (ms; the
   * stitcher's clock). auditd's own end_of_event_timeout defaults to 2 s.
   */
  readonly idleMs?: number;
  /** Open events kept at most; beyond, the oldest is handed on (`evicted`). */
  readonly maxOpen?: number;
  readonly now?: () => number;
}

interface OpenEvent {
  readonly id: string;
  readonly timeMs: number;
  readonly serial: number;
  readonly records: AuditRecord[];
  lastReadAt: number;
}

/**
 * Records whose event never has a SYSCALL record: written by userspace programs (PAM, auditd
 * itself, systemd) or standalone by the kernel. Each is an event of its own.
 */
const standalone =
  /^(USER_|DAEMON_|CRED_|SERVICE_|SYSTEM_|ACCT_|ADD_|DEL_|GRP_|CHGRP_ID|CHUSER_ID|ROLE_|USYS_|SOFTWARE_UPDATE|TRUSTED_APP|TEST|KERNEL$|ANOM_ABEND|ANOM_LOGIN_|EOE$)/;

/**
 * Gathers the records of each event by its identity (time and serial), also when the kernel
 * interleaves two events, and hands each event on once: when its last record (PROCTITLE, or EOE
 * where the log has them) arrives; when a record of an event two seconds younger shows that none
 * will follow; after `idleMs` without a record; or when too many are open.
 */
/** Whether records of a type are events of their own, per type name (a handful of names: cached). */
const standaloneTypes = new Map<string, boolean>();

function isStandalone(type: string): boolean {
  let known = standaloneTypes.get(type);
  if (known === undefined) {
    known = standalone.test(type) && type !== 'EOE';
    if (standaloneTypes.size < 1024) standaloneTypes.set(type, known);
  }
  return known;
}

export class EventStitcher {
  private readonly open = new Map<string, OpenEvent>();
  /** The event the previous record went to: records of one event nearly always come together. */
  private last: OpenEvent | undefined;
  private readonly idleMs: number;
  private readonly maxOpen: number;
  private readonly now: () => number;

  constructor(
    private readonly emit: (event: AuditEvent, end: EventEnd) => void,
    options: StitcherOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 2000;
    this.maxOpen = options.maxOpen ?? 1024;
    this.now = options.now ?? Date.now;
  }

  add(record: AuditRecord): void {
    if (isStandalone(record.type)) {
      const pending = this.open.get(record.eventId);
      // A userspace record sharing an id with open kernel records (never seen, but possible): keep them together.
      if (!pending) {
        this.closeOlderThan(record.timeMs);
        this.emit({ id: record.eventId, timeMs: record.timeMs, serial: record.serial, records: [record] }, 'complete');
        return;
      }
    }
    let event = this.last !== undefined && this.last.id === record.eventId ? this.last : this.open.get(record.eventId);
    if (!event) {
      this.closeOlderThan(record.timeMs);
      event = { id: record.eventId, timeMs: record.timeMs, serial: record.serial, records: [], lastReadAt: 0 };
      this.open.set(event.id, event);
      if (this.open.size > this.maxOpen) this.close(this.open.values().next().value!, 'evicted');
    }
    this.last = event;
    event.lastReadAt = this.now();
    if (record.type === 'EOE') {
      this.close(event, 'complete');
      return;
    }
    event.records.push(record);
    if (record.type === 'PROCTITLE') this.close(event, 'complete');
  }

  /** Hand on every event that got no record for `idleMs`: at each collection, after reading. */
  flushIdle(): void {
    const now = this.now();
    for (const event of [...this.open.values()]) if (now - event.lastReadAt >= this.idleMs) this.close(event, 'timed_out');
  }

  /** The lines of the events still open, oldest first: saved with the log position (FileFollower's heldLines). */
  heldLines(): string[] {
    const lines: string[] = [];
    for (const event of this.open.values()) for (const record of event.records) lines.push(record.line);
    return lines;
  }

  get openEvents(): number {
    return this.open.size;
  }

  /** Events at least two seconds older than a record now read get no more records (auditd's rule too). */
  private closeOlderThan(timeMs: number): void {
    for (const event of this.open.values()) {
      if (event.timeMs + this.idleMs > timeMs) break;
      this.close(event, 'timed_out');
    }
  }

  private close(event: OpenEvent, end: EventEnd): void {
    this.open.delete(event.id);
    if (this.last === event) this.last = undefined;
    if (event.records.length > 0) this.emit({ id: event.id, timeMs: event.timeMs, serial: event.serial, records: event.records }, end);
  }
}

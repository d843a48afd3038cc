import { posix } from 'node:path';
import { fieldText, integerField, rawField, type AuditRecord } from '../kaudit/record.js';
import type { AuditEvent } from '../kaudit/stitcher.js';
import type { FileWriter, WriterSource } from './judge-writers.js';

/** The key of the shipped watch rules (deploy/audit/hostguard-fim.rules): `-w PATH -p wa -k hostguard_fim`. */
export const fimRuleKey = 'hostguard_fim';

/** One file a syscall wrote, created, removed or changed the attributes of, and who made the call. */
export interface FileWrite {
  /** Absolute, normalised; relative names resolved against the event's CWD record. */
  readonly path: string;
  /** NORMAL (written, chmod, chown), CREATE, DELETE (unlinked, or replaced by a rename). */
  readonly nametype: string;
  readonly writer: FileWriter;
  /** The event's time, Unix milliseconds (the kernel's wall clock). */
  readonly timeMs: number;
}

const unsetId = 4294967295;

/**
 * PATH items naming a file the call changed. Not PARENT (the directory a name was created in or
 * removed from) nor UNKNOWN (a name that was not looked up, such as the target text of a symlink).
 */
const fileNametypes = new Set(['NORMAL', 'CREATE', 'DELETE']);

/**
 * The files an audit event of a watch rule changed, with the process that changed them: the
 * SYSCALL record gives the executable, pid, uid and auid, each PATH item a name (fileNametypes).
 * A failed call changed nothing. Pure: a rename gives two writes (the old name DELETE, the new one CREATE).
 */
export function writesFromEvent(event: AuditEvent): FileWrite[] {
  let syscall: AuditRecord | undefined;
  let cwd: string | undefined;
  const paths: AuditRecord[] = [];
  for (const record of event.records) {
    if (record.type === 'SYSCALL') syscall = record;
    else if (record.type === 'CWD') cwd = fieldText('cwd', rawField(record.body, 'cwd'));
    else if (record.type === 'PATH') paths.push(record);
  }
  if (!syscall || paths.length === 0) return [];
  const body = syscall.body;
  if (rawField(body, 'success') === 'no') return [];
  const auid = integerField(rawField(body, 'auid'));
  const exe = (fieldText('exe', rawField(body, 'exe')) ?? '').replace(/ \(deleted\)$/, '');
  const writer: FileWriter = {
    exe: exe === '' ? '(unknown executable)' : exe,
    pid: integerField(rawField(body, 'pid')) ?? 0,
    uid: integerField(rawField(body, 'uid')) ?? unsetId,
    auid: auid === unsetId ? undefined : auid,
  };
  const writes: FileWrite[] = [];
  for (const record of paths) {
    const nametype = rawField(record.body, 'nametype') ?? '';
    if (!fileNametypes.has(nametype)) continue;
    const name = fieldText('name', rawField(record.body, 'name'));
    const path = name === undefined ? undefined : absoluteName(name, cwd);
    if (path !== undefined) writes.push({ path, nametype, writer, timeMs: event.timeMs });
  }
  return writes;
}

/** A PATH item's name as a host path; undefined when it is relative and the event has no absolute CWD. */
function absoluteName(name: string, cwd: string | undefined): string | undefined {
  if (name.startsWith('/')) return posix.normalize(name);
  if (cwd === undefined || !cwd.startsWith('/')) return undefined;
  return posix.join(cwd, name);
}

/**
 * The last writer of each path, as the audit events of the watch rules are read: a map bounded
 * by `capacity` (the least recently written path goes first, counted). Enough for who-data: a
 * path changed since the baseline is looked up by the next judgment, seconds later.
 */
export class LastWriters implements WriterSource {
  readonly counts = { writes: 0, evictions: 0 };
  private readonly last = new Map<string, { readonly writer: FileWriter; readonly timeMs: number }>();
  private changes = 0;

  constructor(readonly capacity = 10_000) {}

  /** Grows with every write recorded: findings named with an older one may name a writer now. */
  get version(): number {
    return this.changes;
  }

  get size(): number {
    return this.last.size;
  }

  record(write: FileWrite): void {
    this.counts.writes++;
    this.changes++;
    // Re-inserted: the map's order is then the order of the last write.
    this.last.delete(write.path);
    this.last.set(write.path, { writer: write.writer, timeMs: write.timeMs });
    if (this.last.size > this.capacity) {
      this.last.delete(this.last.keys().next().value!);
      this.counts.evictions++;
    }
  }

  recordEvent(event: AuditEvent): void {
    for (const write of writesFromEvent(event)) this.record(write);
  }

  writerOf(path: string, sinceMs: number): FileWriter | undefined {
    const seen = this.last.get(path);
    return seen !== undefined && seen.timeMs >= sinceMs ? seen.writer : undefined;
  }
}

/**
 * Since when a changed path's writer is looked for: from the start of the last judged observation
 * that did not show it changed (0 when this process judged none before), so a writer seen before
 * the file was last seen as in the baseline is never named for a later change.
 */
export class ChangeWindows {
  private since = new Map<string, number>();
  private previousStartMs: number | undefined;

  /** After a judgment of an observation that started at `startedMs` and found these paths changed. */
  judged(changedPaths: Iterable<string>, startedMs: number): void {
    const next = new Map<string, number>();
    for (const path of changedPaths) next.set(path, this.since.get(path) ?? this.previousStartMs ?? 0);
    this.since = next;
    this.previousStartMs = startedMs;
  }

  sinceOf(path: string): number {
    return this.since.get(path) ?? 0;
  }
}

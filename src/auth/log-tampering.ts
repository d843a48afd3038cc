import type { FileChange } from '../tail/file-follower.js';
import type { JournalSnapshot } from './journal-files.js';

/**
 * How an auth log was tampered with (the `kind` label of hostguard_auth_log_tampering_total):
 * - truncated: emptied, shortened or rewritten in place, with no copy of the old content beside it;
 * - deleted: unlinked, and no compressed copy of it beside it;
 * - replaced: another file at the path and the old one deleted, with no compressed copy;
 * - not_regular: the path is now a link to /dev/null, a directory, a pipe...;
 * - journal_removed: an active journal file, one whose newest entry is recent, or every archive, removed.
 */
export const tamperKinds = ['truncated', 'deleted', 'replaced', 'not_regular', 'journal_removed'] as const;
export type TamperKind = (typeof tamperKinds)[number];

export interface Tampering {
  readonly kind: TamperKind;
  /** The file it happened to. */
  readonly path: string;
  readonly detail: string;
}

/** What the tampering judgment of a file needs besides the change: a compressed copy of the old content beside it, if any. */
export interface RotationEvidence {
  readonly compressedCopy: string | undefined;
}

/** Whether a change needs the evidence of a compressed copy (a directory listing, decompressing a few heads). */
export function needsEvidence(change: FileChange): boolean {
  if (change.atPath === 'not_regular') return false;
  return change.kind === 'truncated' ? !change.copyFound : change.links === 0;
}

/**
 * Judgment, pure: was a change to a followed auth log logrotate's doing or someone else's?
 * logrotate renames (the file keeps a link), copies then truncates (the copy starts with the old
 * first line), and compresses (a `.gz`/`.xz`/`.zst`/`.bz2` beside the path starts with it); it
 * never leaves the path a link to /dev/null. A truncation by hand (`> auth.log`) leaves no copy; a
 * deletion (`rm`, `shred -u`) leaves no link and no compressed copy. A file renamed anywhere keeps
 * its content, so it is a rotation here even outside logrotate (olddir moves it away too).
 */
export function judgeFileChange(change: FileChange, evidence: RotationEvidence): Tampering | undefined {
  const { path } = change;
  if (change.atPath === 'not_regular')
    return { kind: 'not_regular', path, detail: 'the path no longer names a regular file (a link to /dev/null, a directory, a pipe)' };
  if (change.kind === 'truncated') {
    if (change.copyFound || evidence.compressedCopy !== undefined) return undefined;
    return {
      kind: 'truncated',
      path,
      detail: `truncated or rewritten in place after ${change.offset} bytes were read, with no rotated copy of them beside it`,
    };
  }
  if (change.links > 0 || evidence.compressedCopy !== undefined) return undefined;
  if (change.atPath === 'missing') return { kind: 'deleted', path, detail: 'deleted, with no rotated or compressed copy beside it' };
  return { kind: 'replaced', path, detail: 'replaced by another file and deleted, with no rotated or compressed copy beside it' };
}

/**
 * Judgment, pure: journal files that disappeared between two looks. journald itself renames the
 * active file when it rotates (the inode stays), and vacuums its oldest archives when over its
 * limits; it never removes an active file, an archive whose newest entry is recent, or every
 * archive at once. Those are `journalctl --vacuum-*`, `rm`, or `journalctl --rotate` then a vacuum.
 * The volatile journal in /run is moved into /var/log/journal when journald flushes: not counted
 * while a persistent journal exists.
 */
export function judgeJournalChange(before: JournalSnapshot, after: JournalSnapshot, nowMs: number, recentMs: number): Tampering[] {
  const found: Tampering[] = [];
  const removed = [...before.files].filter(([key]) => !after.files.has(key)).map(([, file]) => file);
  for (const file of removed) {
    if (file.runtime && after.persistent) continue;
    if (file.active) found.push({ kind: 'journal_removed', path: file.path, detail: 'the active journal file was removed' });
    else if (file.newestEntryMs !== undefined && file.newestEntryMs >= nowMs - recentMs) {
      found.push({
        kind: 'journal_removed',
        path: file.path,
        detail: `an archived journal file with entries from the last ${Math.round(recentMs / 3_600_000)} h was removed`,
      });
    }
  }
  const archives = (snapshot: JournalSnapshot) => [...snapshot.files.values()].filter((f) => !f.active && !(f.runtime && after.persistent));
  const archivedBefore = archives(before);
  if (archivedBefore.length >= 2 && archives(after).length === 0 && removed.length >= 2 && found.length === 0) {
    found.push({
      kind: 'journal_removed',
      path: archivedBefore[0]!.path,
      detail: `all ${archivedBefore.length} archived journal files were removed at once`,
    });
  }
  return found;
}

/** A tampering as the findings list it, with when it was seen. */
export interface TamperingSeen extends Tampering {
  readonly source: string;
  readonly seenAt: number;
}

const maxKept = 64;

/**
 * The tamperings seen, for the findings (the last 64, for as long as the policy's findings_for)
 * and the counter (every one). A file judged tampered is judged once: the follower may tell of
 * the same file again (deleted, then another file at the path).
 */
export class TamperingLog {
  private seen: TamperingSeen[] = [];
  private readonly counts = new Map<string, number>();
  private readonly judged = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Record a tampering of `source`; `identity` (a file's device:inode) keeps one file from being counted twice. */
  record(source: string, tampering: Tampering, identity?: string): void {
    if (identity !== undefined) {
      if (this.judged.has(identity)) return;
      if (this.judged.size >= 1024) this.judged.clear();
      this.judged.add(identity);
    }
    const key = `${source}\u0000${tampering.kind}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.seen.push({ ...tampering, source, seenAt: this.now() });
    if (this.seen.length > maxKept) this.seen = this.seen.slice(-maxKept);
  }

  /** Tamperings seen in the last `forMs`, oldest first. */
  recent(forMs: number): readonly TamperingSeen[] {
    const from = this.now() - forMs;
    this.seen = this.seen.filter((t) => t.seenAt >= from);
    return this.seen;
  }

  /** Tamperings of `source` of `kind` so far. */
  count(source: string, kind: TamperKind): number {
    return this.counts.get(`${source}\u0000${kind}`) ?? 0;
  }
}

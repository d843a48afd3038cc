import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-write.js';

/**
 * When a scan last read every file, kept in the state directory so that restarts and one-shot
 * `check` runs share the full-rehash interval: a crash-looping exporter, or a `check` from cron
 * every few minutes, neither skips full rehashes nor rereads everything every time.
 */
export class FullRehashRecord {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'integrity-full-rehash.json');
  }

  /** Unix milliseconds, or undefined when there is no usable record (absent, garbage, or in the future). */
  read(now = Date.now()): number | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { finished_at?: unknown };
      const at = typeof parsed.finished_at === 'string' ? Date.parse(parsed.finished_at) : NaN;
      // A time in the future would postpone full rehashes indefinitely: not trusted.
      return Number.isFinite(at) && at <= now ? at : undefined;
    } catch {
      return undefined;
    }
  }

  /** Best effort: a state directory we may not write (a `check` as another user) only costs a rehash next time. */
  write(at: number): boolean {
    try {
      writeFileAtomic(this.path, JSON.stringify({ finished_at: new Date(at).toISOString() }) + '\n', 0o644);
      return true;
    } catch {
      return false;
    }
  }
}

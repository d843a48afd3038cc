import { execFile } from 'node:child_process';
import { parseJournalLine } from './journal-entry.js';

/**
 * Where the journal ends now, for a follower that starts at the end: the cursor of the last
 * matching entry (`last`), no matching entry at all (`empty`: everything logged later is new), or
 * `unknown` when journalctl failed or warned (a journal it may not read is not an empty one).
 */
export type JournalEnd = { kind: 'last'; cursor: string } | { kind: 'empty' } | { kind: 'unknown'; reason: string };

/** Run `journalctl <args>` (which must print the last matching entry as JSON) and read its cursor. */
export function findJournalEnd(command: string, args: readonly string[], timeoutMs = 30_000): Promise<JournalEnd> {
  return new Promise((resolve) => {
    execFile(command, [...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        resolve({ kind: 'unknown', reason: (stderr.trim() || error.message).slice(0, 200) });
        return;
      }
      const last = stdout.split('\n').filter((line) => line.trim() !== '').at(-1);
      if (last === undefined) {
        resolve(stderr.trim() === '' ? { kind: 'empty' } : { kind: 'unknown', reason: stderr.trim().slice(0, 200) });
        return;
      }
      const parsed = parseJournalLine(last);
      const cursor = parsed.kind === 'entry' ? parsed.entry.cursor : parsed.kind === 'no_message' ? parsed.cursor : undefined;
      resolve(cursor === undefined ? { kind: 'unknown', reason: 'journalctl printed no cursor' } : { kind: 'last', cursor });
    });
  });
}

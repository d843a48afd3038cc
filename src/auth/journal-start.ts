import { execFile } from 'node:child_process';
import { parseJournalLine } from './journal-entry.js';

/**
 * Where the journal ends now, for a follower that starts at the end: the cursor of the last
 * matching entry (`last`), no matching entry at all (`empty`: everything logged later is new), or
 * `unknown` when journalctl failed or warned (a journal it may not read is not an empty one).
 */
export type JournalEnd = { kind: 'last'; cursor: string } | { kind: 'empty' } | { kind: 'unknown'; reason: string };

/**
 * Run `journalctl <args>` (which must print the last matching entry as JSON) and read its cursor.
 * Past `timeoutMs`, or when `signal` aborts, journalctl is killed with SIGKILL (a read-only lookup
 * loses nothing, and one that ignores SIGTERM must not outlive it); the answer comes once it has exited.
 */
export function findJournalEnd(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<JournalEnd> {
  return new Promise((resolve) => {
    const kill = () => child.kill('SIGKILL');
    // Not execFile's own `signal`: it kills with SIGTERM, and answers before journalctl has exited.
    const child = execFile(
      command,
      [...args],
      { encoding: 'utf8', timeout: options.timeoutMs ?? 30_000, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        options.signal?.removeEventListener('abort', kill);
        resolve(readJournalEnd(error, stdout, stderr));
      },
    );
    if (options.signal?.aborted) kill();
    else options.signal?.addEventListener('abort', kill, { once: true });
  });
}

function readJournalEnd(error: Error | null, stdout: string, stderr: string): JournalEnd {
  if (error) return { kind: 'unknown', reason: (stderr.trim() || error.message).slice(0, 200) };
  const last = stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .at(-1);
  if (last === undefined) return stderr.trim() === '' ? { kind: 'empty' } : { kind: 'unknown', reason: stderr.trim().slice(0, 200) };
  const parsed = parseJournalLine(last);
  const cursor = parsed.kind === 'entry' ? parsed.entry.cursor : parsed.kind === 'no_message' ? parsed.cursor : undefined;
  return cursor === undefined ? { kind: 'unknown', reason: 'journalctl printed no cursor' } : { kind: 'last', cursor };
}

import { journalStamp, noStamp, type LogRecord } from './syslog-line.js';

/** One entry of `journalctl --output=json`, reduced to what the classifier and the cursor need. */
export interface JournalEntry {
  readonly cursor: string | undefined;
  readonly record: LogRecord;
}

export type JournalLine =
  { kind: 'entry'; entry: JournalEntry } | { kind: 'no_message'; cursor: string | undefined } | { kind: 'not_json' };

/**
 * Parse one line of journalctl's JSON output. The fields read here are journalFields, the only ones
 * asked for (journalctl adds __CURSOR and __REALTIME_TIMESTAMP): keep the two in step. A field
 * holding non-UTF-8 data is an array of byte values; a field journalctl chose not to print (over
 * 4 KiB without --all) is null.
 */
export function parseJournalLine(line: string): JournalLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'not_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'not_json' };
  const fields = value as Record<string, unknown>;
  const cursor = text(fields.__CURSOR);
  const message = text(fields.MESSAGE);
  if (message === undefined) return { kind: 'no_message', cursor };
  const program = text(fields.SYSLOG_IDENTIFIER) ?? text(fields._COMM) ?? '';
  const pid = text(fields.SYSLOG_PID) ?? text(fields._PID);
  const realtime = text(fields.__REALTIME_TIMESTAMP);
  const stamped = realtime !== undefined && /^\d{1,19}$/.test(realtime);
  return {
    kind: 'entry',
    entry: { cursor, record: { program, pid, message, line: stamped ? realtime : '', stampAt: stamped ? journalStamp : noStamp } },
  };
}

function text(field: unknown): string | undefined {
  if (typeof field === 'string') return field;
  if (Array.isArray(field) && field.every((b) => typeof b === 'number' && b >= 0 && b <= 255))
    return Buffer.from(field as number[]).toString('utf8');
  return undefined;
}

/**
 * One line of the Linux audit log (auditd's log_file, RAW or ENRICHED format), parsed once at the
 * edge: the record type, the event it belongs to (`msg=audit(SECONDS.MILLIS:SERIAL)`), and its
 * fields, decoded on demand. Any record type and key: the exec source reads SYSCALL, EXECVE, CWD
 * and PATH records, a file-watch reader would read the same PATH records of its own key.
 */

export interface AuditRecord {
  /** `SYSCALL`, `EXECVE`, `CONFIG_CHANGE`, ... as auditd names it (`UNKNOWN[1334]` for a number it has no name for). */
  readonly type: string;
  /** The event's identity: node (with name_format), time and serial. Records of one event share it. */
  readonly eventId: string;
  /** Event time, Unix milliseconds (the kernel's wall clock). */
  readonly timeMs: number;
  readonly serial: number;
  /** The text after `msg=audit(...): `, up to ENRICHED's interpretations (after \x1d), which are not used. */
  readonly body: string;
  /** The line as read: what is saved while the event is incomplete. */
  readonly line: string;
}

export type RecordProblem = 'no_type' | 'no_event_id';

export type ParsedRecord = { readonly ok: true; readonly record: AuditRecord } | { readonly ok: false; readonly problem: RecordProblem };

const noType: ParsedRecord = { ok: false, problem: 'no_type' };
const noEventId: ParsedRecord = { ok: false, problem: 'no_event_id' };

/**
 * Parse the header of one log line. Fields are left in `body` and read with `fieldsOf`: most
 * records of a busy log belong to events nobody asked for, and the header is all the stitching needs.
 */
export function parseAuditRecord(line: string): ParsedRecord {
  // `node=web-1 type=SYSCALL msg=audit(...)` with auditd's name_format; `type=...` without.
  let at = line.startsWith('node=') ? line.indexOf(' type=') + 1 : 0;
  if (!line.startsWith('type=', at)) return noType;
  at += 5;
  const typeEnd = line.indexOf(' ', at);
  if (typeEnd === -1) return noType;
  const type = line.slice(at, typeEnd);
  const open = line.indexOf('msg=audit(', typeEnd);
  if (open === -1) return noEventId;
  const idStart = open + 10;
  const close = line.indexOf(')', idStart);
  const colon = line.indexOf(':', idStart);
  const dot = line.indexOf('.', idStart);
  if (close === -1 || colon === -1 || dot === -1 || !(dot < colon && colon < close)) return noEventId;
  const seconds = decimal(line, idStart, dot);
  const millis = decimal(line, dot + 1, colon);
  const serial = decimal(line, colon + 1, close);
  if (seconds < 0 || millis < 0 || serial < 0) return noEventId;
  const node = at > 5 ? line.slice(5, at - 6) : '';
  const eventId = node === '' ? line.slice(idStart, close) : `${node}/${line.slice(idStart, close)}`;
  let bodyStart = close + 1;
  if (line.charCodeAt(bodyStart) === 0x3a) bodyStart++;
  if (line.charCodeAt(bodyStart) === 0x20) bodyStart++;
  const enriched = line.indexOf('\x1d', bodyStart);
  const body = line.slice(bodyStart, enriched === -1 ? line.length : enriched);
  return { ok: true, record: { type, eventId, timeMs: seconds * 1000 + millis, serial, body, line } };
}

/** A run of ASCII digits as a number; -1 when empty or anything else. */
function decimal(text: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * The fields of a record body, raw (`"quoted"` values keep their quotes, hex stays hex). A
 * `msg='...'` value (userspace records) is opened: its inner fields join the others.
 */
export function fieldsOf(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  let i = 0;
  const n = body.length;
  while (i < n) {
    while (i < n && body.charCodeAt(i) === 0x20) i++;
    const eq = body.indexOf('=', i);
    if (eq === -1) break;
    const space = body.indexOf(' ', i);
    if (space !== -1 && space < eq) {
      // A word without a value (`audit: ...`): skip it.
      i = space + 1;
      continue;
    }
    const name = body.slice(i, eq);
    let end: number;
    const first = body.charCodeAt(eq + 1);
    if (first === 0x22 /* " */) {
      end = body.indexOf('"', eq + 2);
      end = end === -1 ? n : end + 1;
      fields.set(name, body.slice(eq + 1, end));
    } else if (first === 0x27 /* ' */) {
      const close = body.indexOf("'", eq + 2);
      end = close === -1 ? n : close + 1;
      const inner = body.slice(eq + 2, close === -1 ? n : close);
      for (const [k, v] of fieldsOf(inner)) if (!fields.has(k)) fields.set(k, v);
    } else {
      end = body.indexOf(' ', eq + 1);
      if (end === -1) end = n;
      fields.set(name, body.slice(eq + 1, end));
    }
    i = end;
  }
  return fields;
}

/**
 * One raw field of a kernel record, without parsing the others: a syscall event's records are
 * read for a few fields each, on every exec. The kernel writes values with a space or a quote in
 * hex, so a space always ends a value (userspace `msg='…'` records are read with fieldsOf).
 */
export function rawField(body: string, name: string): string | undefined {
  let at: number;
  if (body.startsWith(name) && body.charCodeAt(name.length) === 0x3d) at = 0;
  else {
    const found = body.indexOf(` ${name}=`);
    if (found === -1) return undefined;
    at = found + 1;
  }
  const start = at + name.length + 1;
  const end = body.indexOf(' ', start);
  return body.slice(start, end === -1 ? body.length : end);
}

/**
 * Fields whose values the kernel writes in hex when they hold a space, a quote or a control
 * character (audit_log_untrustedstring): argv, names, paths, titles, keys. Every other unquoted
 * value (`old=64`, `a0=7ffd...` of SYSCALL) is a number or a word and stays as it is.
 */
const untrusted = new Set([
  'comm',
  'exe',
  'name',
  'cwd',
  'proctitle',
  'key',
  'path',
  'dir',
  'cmd',
  'acct',
  'ocomm',
  'data',
  'old-rule',
  'new-rule',
]);
const execveArgument = /^a\d+(\[\d+\])?$/;

function isUntrusted(name: string, inExecve: boolean): boolean {
  return untrusted.has(name) || (inExecve && execveArgument.test(name));
}

/**
 * The text of a raw field value: unquoted, hex decoded where the kernel encodes it; undefined for
 * `(null)` and `(none)`. `inExecve`: the value is an argument of an EXECVE record (`a1`, `a1[0]`).
 */
export function fieldText(name: string, raw: string | undefined, inExecve = false): string | undefined {
  if (raw === undefined || raw === '(null)' || raw === '(none)') return undefined;
  if (raw.charCodeAt(0) === 0x22) return raw.length >= 2 && raw.endsWith('"') ? raw.slice(1, -1) : raw.slice(1);
  if (isUntrusted(name, inExecve) && raw.length % 2 === 0 && /^[0-9A-F]*$/.test(raw)) return Buffer.from(raw, 'hex').toString('utf8');
  return raw;
}

/** A raw field that is a decimal number (pid, uid, item, inode); undefined when absent or anything else. */
export function integerField(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/** The keys of a record's raw `key` field: several rules' keys are joined by \x01. */
export function keysOf(raw: string | undefined): string[] {
  const text = fieldText('key', raw);
  return text === undefined ? [] : text.split('\x01');
}

import { detach } from './detach.js';

/**
 * The header of a syslog line: who logged it (program, pid), the message, and where its timestamp
 * is (read only when a judgment needs the time: see log-time.ts). The shapes it knows, each with
 * or without a leading `<PRI>`:
 *
 * - timestamps: RFC 3164 `Jan  5 10:00:00` (day padded or not, optional `.frac`, optional year
 *   before the time), ISO 8601 `2024-01-05T10:00:00[.frac][Z|±hh:mm]` (rsyslog's file format),
 *   and RFC 5424 (`<38>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`);
 * - BSD syslogd -v's `<auth.info>` after the timestamp;
 * - a hostname, or none (`Nov 23 21:50:37 sshd[8148]: ...`, as written by syslogd without -h
 *   forwarding or by a daemon's own syslog-format file such as Dovecot's);
 * - the program as `prog[pid]:`, `prog:`, `[prog]:`, `[prog]`, `(prog)`, `prog[pid]` without
 *   the colon, and the old PAM form `sshd(pam_unix)[42]:` (the message becomes `pam_unix(sshd): ...`);
 * - Solaris' `[ID 800047 auth.info]` between the program and the message (dropped);
 * - old syslogd's `last message repeated N times` (program '', message as written).
 *
 * Timestamps are recognised here, not interpreted.
 */
export interface LogRecord {
  readonly program: string;
  readonly pid: string | undefined;
  readonly message: string;
  /** The text holding the timestamp: the log line, or a journal entry's __REALTIME_TIMESTAMP (microseconds). */
  readonly line: string;
  /** Where the timestamp starts in `line`; -1 when `line` is microseconds since the epoch; -2 when there is none. */
  readonly stampAt: number;
}

/** A LogRecord written in place: the pipeline reads every line into one (see parseSyslogLine). */
export type LogRecordSlot = { -readonly [K in keyof LogRecord]: LogRecord[K] };

/** `stampAt` of a record whose `line` is a journal entry's __REALTIME_TIMESTAMP. */
export const journalStamp = -1;
/** `stampAt` of a record without a timestamp. */
export const noStamp = -2;

const monthStarts = new Set(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);
const repeatedNote = 'last message repeated ';

/**
 * With `into`, the common shape (`[host ]prog[pid]: msg` and its kin) is written there and `into`
 * returned, so that reading a line allocates no record; the caller copies what it keeps.
 */
export function parseSyslogLine(line: string, into?: LogRecordSlot): LogRecord | undefined {
  let i = 0;
  if (line.charCodeAt(0) === 60 /* < */) {
    const close = line.indexOf('>', 1);
    if (close < 2 || close > 4 || !allDigits(line, 1, close)) return undefined;
    i = close + 1;
  }
  const stampAt = i;
  if (line.charCodeAt(i) === 49 /* 1 */ && line.charCodeAt(i + 1) === 32) return parse5424(line, i + 2, stampAt);
  let rest: number;
  if (isDigit(line.charCodeAt(i))) rest = skipIsoStamp(line, i);
  else if (monthStarts.has(line.slice(i, i + 3))) rest = skipBsdStamp(line, i + 3);
  else return undefined;
  if (rest < 0) return undefined;
  return parseAfterStamp(line, rest, stampAt, into);
}

/** `YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm] `: the index after the space, or -1. */
function skipIsoStamp(line: string, i: number): number {
  if (line.charCodeAt(i + 4) !== 45 /* - */ || line.charCodeAt(i + 7) !== 45 || line.charCodeAt(i + 10) !== 84 /* T */) return -1;
  if (line.charCodeAt(i + 13) !== 58 /* : */ || line.charCodeAt(i + 16) !== 58) return -1;
  const end = line.indexOf(' ', i + 19);
  return end < 0 || end > i + 40 ? -1 : end + 1;
}

/** After `Mmm`: ` dd hh:mm:ss[.frac] ` or ` d hh:mm:ss `, or ` dd yyyy hh:mm:ss `: the index after, or -1. */
function skipBsdStamp(line: string, i: number): number {
  if (line.charCodeAt(i) !== 32) return -1;
  i++;
  if (line.charCodeAt(i) === 32) i++;
  const dayStart = i;
  while (isDigit(line.charCodeAt(i))) i++;
  if (i === dayStart || i - dayStart > 2 || line.charCodeAt(i) !== 32) return -1;
  i++;
  // An optional year: `Jan  5 2024 10:00:00`.
  if (isDigit(line.charCodeAt(i + 3)) && line.charCodeAt(i + 4) === 32 && allDigits(line, i, i + 4)) i += 5;
  if (!isDigit(line.charCodeAt(i)) || line.charCodeAt(i + 2) !== 58 || line.charCodeAt(i + 5) !== 58 || !isDigit(line.charCodeAt(i + 7)))
    return -1;
  i += 8;
  if (line.charCodeAt(i) === 46 /* . */) {
    i++;
    while (isDigit(line.charCodeAt(i))) i++;
  }
  return line.charCodeAt(i) === 32 ? i + 1 : -1;
}

/** `[<fac.sev> ][host ]TAG MESSAGE` from `at`. */
function parseAfterStamp(line: string, at: number, stampAt: number, into: LogRecordSlot | undefined): LogRecord | undefined {
  // BSD syslogd -v: `<auth.info> ` before the hostname.
  if (line.charCodeAt(at) === 60 /* < */) {
    const close = line.indexOf('> ', at);
    if (close < 0 || close - at > 24) return undefined;
    at = close + 2;
  }
  let firstEnd = line.indexOf(' ', at);
  if (firstEnd === at) return undefined;
  // A tag with nothing after it: `Jan  5 10:00:00 sshd[42]:`.
  if (firstEnd < 0 && isTag(line, at, line.length)) firstEnd = line.length;
  if (firstEnd < 0 || !isTag(line, at, firstEnd)) {
    if (isRepeatedNote(line, at)) return { program: '', pid: undefined, message: line.slice(at), line, stampAt };
    if (firstEnd < 0) return undefined;
    // A number then a bracket is MySQL's `thread [Level]`, not a hostname and a tag.
    if (line.charCodeAt(firstEnd + 1) === 91 && allDigits(line, at, firstEnd)) return undefined;
    // The first word is the hostname.
    at = firstEnd + 1;
    if (isRepeatedNote(line, at)) return { program: '', pid: undefined, message: line.slice(at), line, stampAt };
  }
  return parseTag(line, at, stampAt, into);
}

function isRepeatedNote(line: string, at: number): boolean {
  return line.charCodeAt(at) === 108 /* l */ && line.startsWith(repeatedNote, at);
}

/** Whether the word line[from, to) is a program tag rather than a hostname: it ends with ':' or is bracketed or has a [pid]. */
function isTag(line: string, from: number, to: number): boolean {
  const last = line.charCodeAt(to - 1);
  if (last === 58 /* : */) return to - from > 1;
  const first = line.charCodeAt(from);
  if ((first === 91 /* [ */ && last === 93) /* ] */ || (first === 40 /* ( */ && last === 41)) /* ) */ return to - from > 2;
  // prog[pid] without a colon: a hostname never ends in a bracketed number.
  if (last !== 93) return false;
  const open = line.lastIndexOf('[', to);
  return open > from && allDigits(line, open + 1, to - 1) && to - 1 > open + 1;
}

/** `prog[pid]: msg`, `prog: msg`, `[prog]: msg`, `[prog] msg`, `(prog) msg`, `prog[pid] msg`, `prog(pam_unix)[pid]: msg`. */
function parseTag(line: string, at: number, stampAt: number, into: LogRecordSlot | undefined): LogRecord | undefined {
  let program: string;
  let pid: string | undefined;
  let end: number;
  const first = line.charCodeAt(at);
  if (first === 91 /* [ */ || first === 40 /* ( */) {
    const close = line.indexOf(first === 91 ? ']' : ')', at + 1);
    if (close < 0) return undefined;
    program = line.slice(at + 1, close);
    end = close + 1;
    if (line.charCodeAt(end) === 91) {
      const pidClose = line.indexOf(']', end);
      if (pidClose < 0) return undefined;
      pid = line.slice(end + 1, pidClose);
      end = pidClose + 1;
    }
    if (line.charCodeAt(end) === 58) end++;
    if (program.includes(' ')) return undefined;
  } else {
    // The tag ends at the first colon, unless a space comes first (`prog[pid] msg`); one pass
    // finds that end and the last '[' before it (the builtins cost more than this short scan).
    let tagEnd = at;
    let open = -1;
    let stop = 0;
    for (; tagEnd < line.length; tagEnd++) {
      stop = line.charCodeAt(tagEnd);
      if (stop === 58 /* : */ || stop === 32) break;
      if (stop === 91 /* [ */) open = tagEnd;
    }
    if (tagEnd === at || tagEnd === line.length) return undefined;
    const colon = stop === 58;
    if (line.charCodeAt(tagEnd - 1) === 93 /* ] */) {
      if (open <= at) return undefined;
      program = programAt(line, at, open);
      pid = line.slice(open + 1, tagEnd - 1);
    } else {
      if (!colon) return undefined;
      program = programAt(line, at, tagEnd);
    }
    end = colon ? tagEnd + 1 : tagEnd;
  }
  if (program.length === 0 || program.length > 64) return undefined;
  let messageAt = line.charCodeAt(end) === 32 ? end + 1 : end;
  // Solaris: `[ID 800047 auth.info] ` between the program and the message.
  if (line.charCodeAt(messageAt) === 91 && line.startsWith('[ID ', messageAt)) {
    const close = line.indexOf('] ', messageAt);
    if (close > 0 && close - messageAt < 48) messageAt = close + 2;
  }
  const message = line.slice(messageAt);
  // Linux-PAM before 0.99 named its module in the tag: `sshd(pam_unix)[42]: authentication failure; ...`.
  if (program.charCodeAt(program.length - 1) === 41 /* ) */) {
    const pam = program.indexOf('(pam_');
    if (pam > 0) {
      const service = program.slice(0, pam);
      return { program: service, pid, message: `${program.slice(pam + 1, -1)}(${service}): ${message}`, line, stampAt };
    }
  }
  if (into === undefined) return { program, pid, message, line, stampAt };
  into.program = program;
  into.pid = pid;
  into.message = message;
  into.line = line;
  into.stampAt = stampAt;
  return into;
}

let lastProgram = '';

/** line[from, to): the same string as the last line's program when it is the same text, as it mostly is (no copy, and the classifier's lookup is an identity test). */
function programAt(line: string, from: number, to: number): string {
  const length = to - from;
  if (length === lastProgram.length) {
    let k = 0;
    while (k < length && line.charCodeAt(from + k) === lastProgram.charCodeAt(k)) k++;
    if (k === length) return lastProgram;
  }
  // A copy, not a slice: it outlives the line as the next line's point of comparison.
  lastProgram = length <= 64 ? detach(line.slice(from, to)) : line.slice(from, to);
  return lastProgram;
}

/** RFC 5424 after `1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]. */
function parse5424(line: string, from: number, stampAt: number): LogRecord | undefined {
  const fields: string[] = [];
  let at = from;
  for (let n = 0; n < 5; n++) {
    const end = line.indexOf(' ', at);
    if (end < 0) return undefined;
    fields.push(line.slice(at, end));
    at = end + 1;
  }
  at = skipStructuredData(line, at);
  if (at < 0) return undefined;
  let message = line.slice(at);
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  const app = fields[2]!;
  const procid = fields[3]!;
  return {
    program: app === '-' ? '' : app,
    pid: procid === '-' ? undefined : procid,
    message,
    line,
    stampAt: fields[0] === '-' ? noStamp : from,
  };
}

function skipStructuredData(line: string, at: number): number {
  if (line.charCodeAt(at) === 45 /* - */) return line.charCodeAt(at + 1) === 32 ? at + 2 : at + 1;
  while (line.charCodeAt(at) === 91 /* [ */) {
    let j = at + 1;
    for (; j < line.length; j++) {
      const c = line.charCodeAt(j);
      if (c === 92 /* \ */) j++;
      else if (c === 93) break;
    }
    if (j >= line.length) return -1;
    at = j + 1;
  }
  return line.charCodeAt(at) === 32 ? at + 1 : at;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function allDigits(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

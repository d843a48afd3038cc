/**
 * The parts of a syslog line the classifier needs: who logged it (program, pid) and the message.
 * Accepts what rsyslog and syslog-ng write to auth.log/secure: RFC 3164 (`Jan  5 10:00:00 host
 * sshd[42]: ...`), RFC 5424 (`<38>1 2024-01-05T10:00:00.123Z host sshd 42 - - ...`), and the
 * ISO-8601 high-precision file format (`2024-01-05T10:00:00.123456+01:00 host sshd[42]: ...`),
 * each with or without a leading `<PRI>`. Timestamps are recognised, not interpreted: lines are
 * counted when read.
 */
export interface SyslogRecord {
  readonly program: string;
  readonly pid: string | undefined;
  readonly message: string;
}

const months = new Set(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);

export function parseSyslogLine(line: string): SyslogRecord | undefined {
  let i = 0;
  if (line.charCodeAt(0) === 60 /* < */) {
    const close = line.indexOf('>', 1);
    if (close < 2 || close > 4) return undefined;
    i = close + 1;
  }
  if (line.charCodeAt(i) === 49 /* 1 */ && line.charCodeAt(i + 1) === 32) return parse5424(line, i + 2);
  if (isDigit(line.charCodeAt(i))) {
    // ISO-8601: 2024-01-05T10:00:00[.frac](Z|±hh:mm)
    if (line.charCodeAt(i + 4) !== 45 || line.charCodeAt(i + 10) !== 84 /* T */) return undefined;
    const end = line.indexOf(' ', i + 19);
    if (end < 0) return undefined;
    return parseHostAndTag(line, end + 1);
  }
  // RFC 3164: Mmm dd hh:mm:ss
  if (!months.has(line.slice(i, i + 3)) || line.charCodeAt(i + 3) !== 32 || line.charCodeAt(i + 6) !== 32) return undefined;
  if (line.charCodeAt(i + 9) !== 58 || line.charCodeAt(i + 12) !== 58 || line.charCodeAt(i + 15) !== 32) return undefined;
  return parseHostAndTag(line, i + 16);
}

/** `host tag[pid]: message` or `host tag: message`. */
function parseHostAndTag(line: string, from: number): SyslogRecord | undefined {
  const hostEnd = line.indexOf(' ', from);
  if (hostEnd <= from) return undefined;
  const tagStart = hostEnd + 1;
  const colon = line.indexOf(':', tagStart);
  if (colon <= tagStart) return undefined;
  let program: string;
  let pid: string | undefined;
  if (line.charCodeAt(colon - 1) === 93 /* ] */) {
    const open = line.lastIndexOf('[', colon);
    if (open <= tagStart) return undefined;
    program = line.slice(tagStart, open);
    pid = line.slice(open + 1, colon - 1);
  } else {
    program = line.slice(tagStart, colon);
  }
  if (program.length === 0 || program.length > 64 || program.includes(' ')) return undefined;
  const message = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
  return { program, pid, message };
}

/** RFC 5424 after `1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]. */
function parse5424(line: string, from: number): SyslogRecord | undefined {
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
  return { program: app === '-' ? '' : app, pid: procid === '-' ? undefined : procid, message };
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

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

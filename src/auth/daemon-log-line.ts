import { allDigits, isDigit, type LogRecord } from './syslog-line.js';

/**
 * The headers of daemons' own log files (not syslog), for the lines parseSyslogLine refuses. Each
 * names the program the way its syslog lines would, so one pattern list serves both; a header
 * that does not say which daemon wrote it gives the program '' (exim's mainlog, OpenVPN's and
 * PostgreSQL's log files), whose patterns are told apart by the message.
 *
 * - nginx error.log: `2024/01/05 10:00:00 [error] 1234#1234: *5 ...` (program nginx);
 * - Apache error_log: `[Fri Jan 05 10:00:00.123456 2024] [auth_basic:error] [pid 1234:tid 5] ...`
 *   (2.4) and `[Fri Jan 05 10:00:00 2024] [error] [client 192.0.2.1] ...` (2.2) (program apache);
 * - xrdp and xrdp-sesman logs: `[20240105-10:00:00] [INFO ] ...` and `[2024-01-05T10:00:00.123+0000] [INFO ] ...` (program xrdp);
 * - vsftpd.log: `Fri Jan  5 10:00:00 2024 [pid 1234] ...` (program vsftpd); without `[pid N]` (OpenVPN before 2.5) program '';
 * - MySQL and MariaDB error logs: `2024-01-05T10:00:00.123456Z 8 [Note] ...`, `2024-01-05 10:00:00 8 [Warning] ...`,
 *   `240105 10:00:00 [Warning] ...` (program mysqld; the thread id stands for the pid);
 * - proftpd's SystemLog: `2024-01-05 10:00:00,123 host proftpd[1234] host (addr[addr]): ...` (program from the tag);
 * - `YYYY-MM-DD hh:mm:ss[.frac][ zone][ [pid]] message`: exim's mainlog, PostgreSQL's log
 *   (`%m [%p] `), OpenVPN 2.5+ (program '').
 */
export function parseDaemonLogLine(line: string): LogRecord | undefined {
  const c = line.charCodeAt(0);
  if (c === 91 /* [ */) return line.charCodeAt(1) >= 65 ? parseApache(line) : parseXrdp(line);
  if (!isDigit(c)) return weekday(line) ? parseCtime(line) : undefined;
  if (line.charCodeAt(4) === 47 /* / */) return parseNginx(line);
  if (line.charCodeAt(4) === 45 /* - */) return parseDated(line);
  if (line.charCodeAt(6) === 32 && allDigits(line, 0, 6)) return parseOldMysql(line);
  return undefined;
}

/** `2024/01/05 10:00:00 [level] pid#tid: message`. */
function parseNginx(line: string): LogRecord | undefined {
  if (
    line.charCodeAt(7) !== 47 ||
    line.charCodeAt(10) !== 32 ||
    line.charCodeAt(13) !== 58 ||
    line.charCodeAt(19) !== 32 ||
    line.charCodeAt(20) !== 91
  )
    return undefined;
  const levelEnd = line.indexOf('] ', 21);
  if (levelEnd < 0) return undefined;
  const hash = line.indexOf('#', levelEnd);
  const colon = line.indexOf(': ', levelEnd);
  if (hash < 0 || colon < hash || !allDigits(line, levelEnd + 2, hash)) return undefined;
  return { program: 'nginx', pid: line.slice(levelEnd + 2, hash), message: line.slice(colon + 2), line, stampAt: 0 };
}

/** `[Www Mmm dd hh:mm:ss[.frac] yyyy] [module:level] [pid N[:tid M]] ...`: the message keeps the level and client brackets. */
function parseApache(line: string): LogRecord | undefined {
  if (!weekday(line, 1)) return undefined;
  const close = line.indexOf('] ', 1);
  if (close < 20 || close > 40) return undefined;
  const message = line.slice(close + 2);
  const pidAt = message.indexOf('[pid ');
  let pid: string | undefined;
  if (pidAt >= 0 && pidAt < 64) {
    let end = pidAt + 5;
    while (isDigit(message.charCodeAt(end))) end++;
    if (end > pidAt + 5) pid = message.slice(pidAt + 5, end);
  }
  return { program: 'apache', pid, message, line, stampAt: 1 };
}

/** `[20240105-10:00:00] [LEVEL] message` or `[2024-01-05T10:00:00.123+0000] [LEVEL] message`. */
function parseXrdp(line: string): LogRecord | undefined {
  if (!isDigit(line.charCodeAt(1))) return undefined;
  const close = line.indexOf('] ', 1);
  if (close < 18 || close > 40) return undefined;
  const compact = line.charCodeAt(9) === 45 && allDigits(line, 1, 9);
  const iso = line.charCodeAt(5) === 45 && line.charCodeAt(11) === 84;
  if (!compact && !iso) return undefined;
  return { program: 'xrdp', pid: undefined, message: line.slice(close + 2), line, stampAt: 1 };
}

/** `Www Mmm dd hh:mm:ss yyyy [pid N] message` (vsftpd) or `Www Mmm dd hh:mm:ss yyyy message` (OpenVPN < 2.5). */
function parseCtime(line: string): LogRecord | undefined {
  // "Fri Jan  5 10:00:00 2024" is 24 characters.
  if (
    line.charCodeAt(3) !== 32 ||
    line.charCodeAt(7) !== 32 ||
    line.charCodeAt(13) !== 58 ||
    line.charCodeAt(19) !== 32 ||
    !allDigits(line, 20, 24) ||
    line.charCodeAt(24) !== 32
  )
    return undefined;
  if (line.startsWith('[pid ', 25)) {
    const close = line.indexOf('] ', 30);
    if (close < 0 || !allDigits(line, 30, close)) return undefined;
    return { program: 'vsftpd', pid: line.slice(30, close), message: line.slice(close + 2), line, stampAt: 0 };
  }
  return { program: '', pid: undefined, message: line.slice(25), line, stampAt: 0 };
}

/** `YYYY-MM-DD[T ]hh:mm:ss[.,frac][Z|±hh:mm]` then the MySQL, proftpd or plain shapes. */
function parseDated(line: string): LogRecord | undefined {
  const sep = line.charCodeAt(10);
  if (line.charCodeAt(7) !== 45 || (sep !== 32 && sep !== 84) || line.charCodeAt(13) !== 58 || line.charCodeAt(16) !== 58) return undefined;
  const stampEnd = line.indexOf(' ', 19);
  if (stampEnd < 0 || stampEnd > 40) return undefined;
  let at = stampEnd + 1;
  const wordEnd = line.indexOf(' ', at);
  if (wordEnd < 0) return undefined;
  // MySQL: `<thread id> [Level] message`.
  if (
    allDigits(line, at, wordEnd) &&
    line.charCodeAt(wordEnd + 1) === 91 &&
    /^\[[A-Z][a-z]+\] |^\[[A-Z]+\] /.test(line.slice(wordEnd + 1, wordEnd + 12))
  ) {
    return { program: 'mysqld', pid: line.slice(at, wordEnd), message: line.slice(wordEnd + 1), line, stampAt: 0 };
  }
  // proftpd's SystemLog: `host prog[pid] message`.
  const tagEnd = line.indexOf(' ', wordEnd + 1);
  if (tagEnd > 0 && line.charCodeAt(tagEnd - 1) === 93 && line.charCodeAt(at) !== 91) {
    const open = line.lastIndexOf('[', tagEnd);
    if (open > wordEnd + 1 && allDigits(line, open + 1, tagEnd - 1)) {
      return {
        program: line.slice(wordEnd + 1, open),
        pid: line.slice(open + 1, tagEnd - 1),
        message: line.slice(tagEnd + 1),
        line,
        stampAt: 0,
      };
    }
  }
  // A time zone after the time (`UTC`, `CET`, `+0100`): part of the timestamp.
  if (isZone(line, at, wordEnd)) at = wordEnd + 1;
  let pid: string | undefined;
  if (line.charCodeAt(at) === 91) {
    const close = line.indexOf('] ', at);
    if (close > at + 1 && allDigits(line, at + 1, close)) {
      pid = line.slice(at + 1, close);
      at = close + 2;
    }
  }
  return { program: '', pid, message: line.slice(at), line, stampAt: 0 };
}

/** `YYMMDD hh:mm:ss [Level] message` (MySQL 5.5 and older; the hour may be space-padded). */
function parseOldMysql(line: string): LogRecord | undefined {
  let at = 7;
  if (line.charCodeAt(at) === 32) at++;
  const space = line.indexOf(' ', at);
  if (space < 0 || line.charCodeAt(space + 1) !== 91 || line.charCodeAt(at + (line.charCodeAt(at + 1) === 58 ? 1 : 2)) !== 58)
    return undefined;
  return { program: 'mysqld', pid: undefined, message: line.slice(space + 1), line, stampAt: 0 };
}

const weekdays = new Set(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);

function weekday(line: string, at = 0): boolean {
  return weekdays.has(line.slice(at, at + 3)) && line.charCodeAt(at + 3) === 32;
}

function isZone(line: string, from: number, to: number): boolean {
  const n = to - from;
  const first = line.charCodeAt(from);
  if (first === 43 || first === 45) return n >= 3 && n <= 6 && allDigits(line, from + 1, to);
  if (n < 1 || n > 5) return false;
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

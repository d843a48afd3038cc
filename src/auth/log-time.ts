import { isDigit, journalStamp, type LogRecord } from './syslog-line.js';

/**
 * When a line was logged, in ms since the epoch, from its own timestamp; NaN when it has none that
 * reads. Only judgments that compare times across lines ask (a success after failures): the
 * counters never do, so most lines are never read here. Forms: RFC 3164 (the year is the one that
 * puts the time at most two days ahead of `now`), ctime (`Fri Jan  5 10:00:00 2024`), ISO 8601 with
 * `T` or a space, with or without fraction and offset, `YYYY/MM/DD hh:mm:ss`, `YYYYMMDD-hh:mm:ss`,
 * `YYMMDD hh:mm:ss`, and a journal entry's microseconds. A time without an offset is local time.
 */
export function logTime(record: LogRecord, now: number): number {
  const { line, stampAt: at } = record;
  if (at === journalStamp) return Number(line) / 1000;
  if (at < 0) return Number.NaN;
  return isDigit(line.charCodeAt(at)) ? numericStamp(line, at) : namedStamp(line, at, now);
}

const monthIndex = new Map(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m, i) => [m, i]));
const weekdays = new Set(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
const twoDaysMs = 2 * 86_400_000;

/** `Mmm d hh:mm:ss[.frac]`, `Mmm dd yyyy hh:mm:ss`, or ctime `Www Mmm dd hh:mm:ss yyyy`. */
function namedStamp(line: string, at: number, now: number): number {
  const ctime = weekdays.has(line.slice(at, at + 3));
  if (ctime) at += 4;
  const month = monthIndex.get(line.slice(at, at + 3));
  if (month === undefined) return Number.NaN;
  let i = at + 4;
  if (line.charCodeAt(i) === 32) i++;
  let day = 0;
  for (; isDigit(line.charCodeAt(i)); i++) day = day * 10 + line.charCodeAt(i) - 48;
  i++;
  let year = -1;
  if (line.charCodeAt(i + 4) === 32 && isDigit(line.charCodeAt(i + 3))) {
    year = digits(line, i, 4);
    i += 5;
  }
  const h = digits(line, i, 2);
  const m = digits(line, i + 3, 2);
  const s = digits(line, i + 6, 2);
  i += 8;
  let ms = 0;
  if (line.charCodeAt(i) === 46) {
    ms = fraction(line, i + 1);
    i++;
    while (isDigit(line.charCodeAt(i))) i++;
  }
  if (ctime) year = digits(line, i + 1, 4);
  if (year < 0) {
    year = new Date(now).getFullYear();
    const t = localMs(year, month, day, h) + m * 60_000 + s * 1000 + ms;
    if (t <= now + twoDaysMs) return t;
    year--;
  }
  return localMs(year, month, day, h) + m * 60_000 + s * 1000 + ms;
}

/** `YYYY-MM-DD[T ]hh:mm:ss[.,frac][Z|±hh[:]mm| ZONE]`, `YYYY/MM/DD hh:mm:ss`, `YYYYMMDD-hh:mm:ss`, `YYMMDD [h]h:mm:ss`. */
function numericStamp(line: string, at: number): number {
  const fifth = line.charCodeAt(at + 4);
  if (fifth === 45 /* - */ || fifth === 47 /* / */) {
    // Read digit by digit, without a call per field: this runs for every failed attempt.
    const y =
      (line.charCodeAt(at) - 48) * 1000 +
      (line.charCodeAt(at + 1) - 48) * 100 +
      (line.charCodeAt(at + 2) - 48) * 10 +
      line.charCodeAt(at + 3) -
      48;
    const mo = (line.charCodeAt(at + 5) - 48) * 10 + line.charCodeAt(at + 6) - 49;
    const d = (line.charCodeAt(at + 8) - 48) * 10 + line.charCodeAt(at + 9) - 48;
    const h = (line.charCodeAt(at + 11) - 48) * 10 + line.charCodeAt(at + 12) - 48;
    const mi = (line.charCodeAt(at + 14) - 48) * 10 + line.charCodeAt(at + 15) - 48;
    const s = (line.charCodeAt(at + 17) - 48) * 10 + line.charCodeAt(at + 18) - 48;
    if (!(mo >= 0 && mo < 12 && d >= 1 && d <= 31 && h >= 0 && h < 24 && mi >= 0 && mi < 60 && s >= 0 && s <= 60 && y >= 0))
      return Number.NaN;
    let i = at + 19;
    let ms = 0;
    const sep = line.charCodeAt(i);
    if (sep === 46 || sep === 44) {
      ms = fraction(line, i + 1);
      i++;
      while (isDigit(line.charCodeAt(i))) i++;
    }
    const offset = zoneOffsetMs(line, i);
    if (Number.isNaN(offset)) return localMs(y, mo, d, h) + mi * 60_000 + s * 1000 + ms;
    return utcMs(y, mo, d, h) + mi * 60_000 + s * 1000 + ms - offset;
  }
  if (line.charCodeAt(at + 8) === 45) {
    return (
      localMs(digits(line, at, 4), digits(line, at + 4, 2) - 1, digits(line, at + 6, 2), digits(line, at + 9, 2)) +
      digits(line, at + 12, 2) * 60_000 +
      digits(line, at + 15, 2) * 1000
    );
  }
  if (line.charCodeAt(at + 6) === 32) {
    let i = at + 7;
    if (line.charCodeAt(i) === 32) i++;
    const hourDigits = line.charCodeAt(i + 1) === 58 ? 1 : 2;
    const h = digits(line, i, hourDigits);
    i += hourDigits + 1;
    return (
      localMs(2000 + digits(line, at, 2), digits(line, at + 2, 2) - 1, digits(line, at + 4, 2), h) +
      digits(line, i, 2) * 60_000 +
      digits(line, i + 3, 2) * 1000
    );
  }
  return Number.NaN;
}

/** The offset of `Z`, `±hh:mm`, `±hhmm`, ` UTC`/` GMT` at `i`, in ms; NaN for none or a named local zone. */
function zoneOffsetMs(line: string, i: number): number {
  const c = line.charCodeAt(i);
  if (c === 90 /* Z */) return 0;
  if (c === 43 || c === 45) {
    const h = (line.charCodeAt(i + 1) - 48) * 10 + line.charCodeAt(i + 2) - 48;
    const at = line.charCodeAt(i + 3) === 58 ? i + 4 : i + 3;
    const m = (line.charCodeAt(at) - 48) * 10 + line.charCodeAt(at + 1) - 48;
    if (!(h >= 0 && h <= 23)) return Number.NaN;
    return (c === 45 ? -1 : 1) * (h * 60 + (m >= 0 && m < 60 ? m : 0)) * 60_000;
  }
  if (c === 32 && (line.startsWith('UTC', i + 1) || line.startsWith('GMT', i + 1))) return 0;
  return Number.NaN;
}

const hourStarts = new Map<number, number>();

/** Local midnight-of-the-hour, cached: a log has few distinct hours, and Date's local conversion is slow. */
function localMs(y: number, mo: number, d: number, h: number): number {
  const key = ((y * 12 + mo) * 32 + d) * 24 + h;
  let start = hourStarts.get(key);
  if (start === undefined) {
    if (hourStarts.size > 256) hourStarts.clear();
    start = new Date(y, mo, d, h).getTime();
    hourStarts.set(key, start);
  }
  return start;
}

let lastUtcHour = -1;
let lastUtcStart = 0;

/** The start of a UTC hour; the last one is kept, since a run of lines shares its hour. */
function utcMs(y: number, mo: number, d: number, h: number): number {
  const key = ((y * 12 + mo) * 32 + d) * 24 + h;
  if (key !== lastUtcHour) {
    lastUtcHour = key;
    lastUtcStart = Date.UTC(y, mo, d, h);
  }
  return lastUtcStart;
}

function digits(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
    v = v * 10 + c - 48;
  }
  return v;
}

/** The first three digits of a fraction of a second, as milliseconds. */
function fraction(text: string, at: number): number {
  let ms = 0;
  let scale = 100;
  for (let i = at; i < at + 3 && isDigit(text.charCodeAt(i)); i++, scale /= 10) ms += (text.charCodeAt(i) - 48) * scale;
  return ms;
}

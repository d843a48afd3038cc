/**
 * Cron expressions as node-cron reads them (6 fields with seconds, or 5 with second 0; names, ranges
 * that wrap, steps, `?`, nicknames, and its day tokens `L`, `L-n`, `nW`, `LW`, `dL`, `d#n`), and the
 * next run after a time, in the host's local time. Pure: the scheduler arms a timer with it.
 *
 * node-cron itself works out local time with Intl.DateTimeFormat on every tick, which maps about
 * 5 MiB of ICU data into the exporter's resident set; Date's local fields give the same answer.
 * Expressions are validated by node-cron at load (config/cron-expression.ts), with its messages.
 */

type DayRule = (year: number, month: number, day: number) => boolean;

export interface CronSchedule {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  /** Day of month AND day of week, as node-cron matches them. */
  readonly day: DayRule;
}

export class CronSyntaxError extends Error {}

const nicknames: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const weekdayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const bounds = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
] as const;
const fieldNames = ['second', 'minute', 'hour', 'day of month', 'month', 'day of week'];

export function parseCron(expression: string): CronSchedule {
  const text = expression.trim();
  const fields = (nicknames[text.toLowerCase()] ?? text).split(/\s+/);
  if (fields.length === 5) fields.unshift('0');
  if (fields.length !== 6) throw new CronSyntaxError(`${expression}: 5 or 6 fields expected, ${fields.length} found`);
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string, string];
  const dom = dayOfMonth === '?' ? '*' : dayOfMonth;
  const dow = dayOfWeek === '?' ? '*' : named(dayOfWeek, weekdayNames, 0);
  const domRules = dom.split(',').map((token) => dayOfMonthRule(token));
  const dowRules = dow.split(',').map((token) => dayOfWeekRule(token));
  return {
    seconds: values(second, 0),
    minutes: values(minute, 1),
    hours: values(hour, 2),
    months: new Set(values(named(month, monthNames, 1), 4)),
    day: (y, m, d) => domRules.some((rule) => rule(y, m, d)) && dowRules.some((rule) => rule(y, m, d)),
  };
}

/** The first whole second after `after` that the schedule matches, within eight years; none if it never does. */
export function nextRun(schedule: CronSchedule, after: Date): Date | undefined {
  const start = new Date(after.getTime());
  const lastDay = new Date(start.getFullYear() + 8, start.getMonth(), start.getDate());
  for (let day = new Date(start.getFullYear(), start.getMonth(), start.getDate()); day <= lastDay;) {
    const [y, m, d] = [day.getFullYear(), day.getMonth() + 1, day.getDate()];
    if (schedule.months.has(m) && schedule.day(y, m, d)) {
      const found = firstTimeOn(schedule, y, m, d, after.getTime());
      if (found) return found;
    }
    day = new Date(y, m - 1, d + 1);
  }
  return undefined;
}

/**
 * The first matching instant of a day after `afterMs`. Local times follow each other as instants do,
 * except on a day that changes to or from daylight-saving time: there every match is looked at.
 */
function firstTimeOn(schedule: CronSchedule, y: number, m: number, d: number, afterMs: number): Date | undefined {
  const ordered = new Date(y, m - 1, d).getTimezoneOffset() === new Date(y, m - 1, d, 23, 59, 59).getTimezoneOffset();
  let best = Infinity;
  for (const hour of schedule.hours) {
    if (latest(instantsOf(y, m, d, hour, 59, 59)) <= afterMs) continue;
    for (const minute of schedule.minutes) {
      if (latest(instantsOf(y, m, d, hour, minute, 59)) <= afterMs) continue;
      for (const second of schedule.seconds) {
        for (const t of instantsOf(y, m, d, hour, minute, second)) {
          if (t <= afterMs || t >= best) continue;
          if (ordered) return new Date(t);
          best = t;
        }
      }
    }
  }
  return best === Infinity ? undefined : new Date(best);
}

/**
 * The instants a local time names: none in the hour a change to daylight-saving time skips, two in
 * the hour a change back repeats (node-cron runs at both: its match reads local time each second).
 */
function instantsOf(y: number, m: number, d: number, hour: number, minute: number, second: number): number[] {
  const first = new Date(y, m - 1, d, hour, minute, second);
  if (first.getHours() !== hour || first.getMinutes() !== minute) return [];
  const shiftMs = (new Date(first.getTime() + 4 * 3_600_000).getTimezoneOffset() - first.getTimezoneOffset()) * 60_000;
  if (shiftMs > 0) {
    const repeated = new Date(first.getTime() + shiftMs);
    if (repeated.getHours() === hour && repeated.getMinutes() === minute && repeated.getSeconds() === second)
      return [first.getTime(), repeated.getTime()];
  }
  return [first.getTime()];
}

function latest(instants: readonly number[]): number {
  return instants.length ? instants[instants.length - 1]! : -Infinity;
}

function named(field: string, names: readonly string[], first: number): string {
  let out = field.toLowerCase();
  for (const [i, name] of names.entries()) out = out.replace(new RegExp(`${name}[a-z]*`, 'g'), String(i + first));
  return out;
}

/** The sorted values of a numeric field: `*`, `n`, `a-b` (wrapping when a > b), each with an optional `/step`. */
function values(field: string, index: number): number[] {
  const found = new Set<number>();
  for (const token of field.split(',')) for (const value of expand(token, index)) found.add(value);
  return [...found].sort((a, b) => a - b);
}

function expand(token: string, index: number): number[] {
  const [min, max] = bounds[index]!;
  const top = index === 5 ? 6 : max;
  const match = /^(?:(\*)|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(token);
  // A step needs a range (`*/5`, `10-40/5`): node-cron refuses `5/15`.
  if (!match || (match[4] && match[2] !== undefined && match[3] === undefined))
    throw new CronSyntaxError(`${fieldNames[index]}: "${token}" is not a value, range or step`);
  const step = match[4] ? Number(match[4]) : 1;
  const first = match[1] ? min : Number(match[2]);
  const last = match[1] ? top : match[3] !== undefined ? Number(match[3]) : first;
  if (step < 1 || first < min || first > max || last < min || last > max)
    throw new CronSyntaxError(`${fieldNames[index]}: "${token}" is out of ${min}-${max}`);
  const size = top - min + 1;
  const span = (((last - first) % size) + size) % size;
  const out: number[] = [];
  for (let offset = 0; offset <= span; offset += step) out.push(first + offset > top ? first + offset - size : first + offset);
  return out;
}

function lastDayOfMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function weekdayOf(y: number, m: number, d: number): number {
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

/** The weekday nearest to a day of the month, not leaving the month (cron's `nW`). */
function nearestWeekday(y: number, m: number, target: number): number {
  const last = lastDayOfMonth(y, m);
  if (target < 1 || target > last) return -1;
  const weekday = weekdayOf(y, m, target);
  if (weekday === 6) return target === 1 ? 3 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function dayOfMonthRule(token: string): DayRule {
  const upper = token.toUpperCase();
  if (upper === 'L') return (y, m, d) => d === lastDayOfMonth(y, m);
  const offset = /^L-(\d{1,2})$/.exec(upper);
  if (offset) return (y, m, d) => d === lastDayOfMonth(y, m) - Number(offset[1]);
  const weekday = /^(\d{1,2}|L)W$/.exec(upper);
  if (weekday) return (y, m, d) => d === nearestWeekday(y, m, weekday[1] === 'L' ? lastDayOfMonth(y, m) : Number(weekday[1]));
  const days = new Set(expand(token, 3));
  return (_y, _m, d) => days.has(d);
}

function dayOfWeekRule(token: string): DayRule {
  const last = /^([0-7])L$/i.exec(token);
  if (last) {
    const wanted = Number(last[1]) % 7;
    return (y, m, d) => weekdayOf(y, m, d) === wanted && d + 7 > lastDayOfMonth(y, m);
  }
  const nth = /^([0-7])#([1-5])$/.exec(token);
  if (nth) {
    const wanted = Number(nth[1]) % 7;
    return (y, m, d) => weekdayOf(y, m, d) === wanted && Math.floor((d - 1) / 7) + 1 === Number(nth[2]);
  }
  const days = new Set(expand(token, 5).map((v) => v % 7));
  return (y, m, d) => days.has(weekdayOf(y, m, d));
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLogLine } from '../../src/auth/log-line.js';
import { logTime } from '../../src/auth/log-time.js';

/**
 * Property tests of the header parser: a line built in any dialect it knows gives back the program,
 * pid and message it was built from, and the time its timestamp says; and no input, however
 * hostile, makes it throw or return a message that is not the line's own text.
 */
const runs = { numRuns: 2000 };
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number) => String(n).padStart(2, '0');

const program = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_./-]{0,30}$/).filter((p) => !p.startsWith('pam_'));
const pid = fc.option(fc.integer({ min: 1, max: 4_194_304 }).map(String), { nil: undefined });
const host = fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/);
/** Any text of one line; it may look like anything, except Solaris' message-id prefix and the RFC 5424 BOM the parser drops. */
const message = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom(' ', ':', '[', ']', '(', ')', '<', '>', '"', '\\', '-'),
      fc.string({ minLength: 1, maxLength: 1 }),
      fc.constantFrom('é', '日', '\u00a0'),
    ),
    maxLength: 80,
  })
  .filter((m) => !m.startsWith('[ID ') && !m.includes('\n'));
/** A whole second between 2001 and 2036, and a millisecond part. */
const instant = fc.record({ seconds: fc.integer({ min: 978_307_200, max: 2_082_758_399 }), ms: fc.integer({ min: 0, max: 999 }) });
const offsetMinutes = fc.constantFrom(0, 60, -300, 330, 545, -720);

function isoUtcParts(t: number): string {
  return new Date(t).toISOString().slice(0, 19);
}

/** An ISO 8601 timestamp of `t` as seen at `offset` minutes from UTC, with microseconds. */
function iso(t: number, offset: number): string {
  const local = isoUtcParts(t + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}.${String(t % 1000).padStart(3, '0')}123${offset === 0 ? 'Z' : `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`}`;
}

/** RFC 3164's `Mmm dd hh:mm:ss` in local time. */
function bsd(t: number, padded: boolean): string {
  const d = new Date(t);
  const day = padded ? String(d.getDate()).padStart(2, ' ') : String(d.getDate());
  return `${months[d.getMonth()]} ${day} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function ctime(t: number): string {
  const d = new Date(t);
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

const tag = (p: string, id: string | undefined) => (id === undefined ? `${p}:` : `${p}[${id}]:`);

describe('the header parser', () => {
  it('gives back program, pid, message and time from an RFC 3164 line, with or without PRI, hostname and day padding', () => {
    fc.assert(
      fc.property(
        instant,
        host,
        program,
        pid,
        message,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        ({ seconds }, h, p, id, m, withHost, withPri, padded) => {
          const t = seconds * 1000;
          const line = `${withPri ? '<38>' : ''}${bsd(t, padded)} ${withHost ? `${h} ` : ''}${tag(p, id)} ${m}`;
          const record = parseLogLine(line);
          expect(record).toMatchObject({ program: p, pid: id, message: m });
          // The year is the one that puts the line at most two days ahead of now.
          expect(logTime(record!, t + 3_600_000)).toBe(t);
        },
      ),
      runs,
    );
  });

  it('gives back program, pid, message and the exact millisecond from an ISO 8601 line (rsyslog file format)', () => {
    fc.assert(
      fc.property(instant, offsetMinutes, host, program, pid, message, fc.boolean(), ({ seconds, ms }, offset, h, p, id, m, withHost) => {
        const t = seconds * 1000 + ms;
        const line = `${iso(t, offset)} ${withHost ? `${h} ` : ''}${tag(p, id)} ${m}`;
        const record = parseLogLine(line);
        expect(record).toMatchObject({ program: p, pid: id, message: m });
        expect(logTime(record!, 0)).toBe(t);
      }),
      runs,
    );
  });

  it('gives back app, procid, message and time from an RFC 5424 line with structured data', () => {
    const sdValue = fc
      .string({ unit: fc.constantFrom('a', ' ', '"', ']', '\\', '=', 'é'), maxLength: 12 })
      .map((v) => v.replace(/["\]\\]/g, (c) => `\\${c}`));
    fc.assert(
      fc.property(
        instant,
        offsetMinutes,
        host,
        program,
        pid,
        message,
        fc.array(sdValue, { maxLength: 3 }),
        ({ seconds, ms }, offset, h, p, id, m, values) => {
          const t = seconds * 1000 + ms;
          const sd = values.length === 0 ? '-' : values.map((v, i) => `[e${i}@32473 k="${v}"]`).join('');
          const line = `<86>1 ${iso(t, offset)} ${h} ${p} ${id ?? '-'} ID${seconds % 100} ${sd} ${m}`;
          const record = parseLogLine(line);
          expect(record).toMatchObject({ program: p, pid: id, message: m });
          expect(logTime(record!, 0)).toBe(t);
        },
      ),
      runs,
    );
  });

  it('takes the program in brackets or parentheses, BSD -v priorities, Solaris message ids, and old PAM tags', () => {
    fc.assert(
      fc.property(instant, host, program, fc.integer({ min: 1, max: 99_999 }).map(String), message, ({ seconds }, h, p, id, m) => {
        const stamp = bsd(seconds * 1000, true);
        expect(parseLogLine(`${stamp} ${h} [${p}]: ${m}`)).toMatchObject({ program: p, pid: undefined, message: m });
        expect(parseLogLine(`${stamp} ${h} [${p}] ${m}`)).toMatchObject({ program: p, message: m });
        expect(parseLogLine(`${stamp} ${h} (${p}) ${m}`)).toMatchObject({ program: p, message: m });
        expect(parseLogLine(`${stamp} ${h} ${p}[${id}] ${m}`)).toMatchObject({ program: p, pid: id, message: m });
        expect(parseLogLine(`${stamp} <auth.info> ${h} ${p}[${id}]: ${m}`)).toMatchObject({ program: p, pid: id, message: m });
        expect(parseLogLine(`${stamp} ${h} ${p}[${id}]: [ID 800047 auth.info] ${m}`)).toMatchObject({ program: p, pid: id, message: m });
        expect(parseLogLine(`${stamp} ${h} ${p}(pam_unix)[${id}]: ${m}`)).toMatchObject({
          program: p,
          pid: id,
          message: `pam_unix(${p}): ${m}`,
        });
      }),
      runs,
    );
  });

  it("reads the daemons' own headers: nginx, Apache, vsftpd, xrdp, MySQL, PostgreSQL", () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 99_999 }).map(String), message, ({ seconds }, id, m) => {
        const t = seconds * 1000;
        const d = new Date(t);
        const local = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
        const cases: Array<[string, { program: string; pid?: string; message: string }, number]> = [
          [`${local.replace(/-/g, '/')} [error] ${id}#${id}: ${m}`, { program: 'nginx', pid: id, message: m }, t],
          [
            `[${ctime(t).replace(/ (\d{4})$/, '.123456 $1')}] [auth_basic:error] [pid ${id}:tid 7] ${m}`,
            { program: 'apache', pid: id, message: `[auth_basic:error] [pid ${id}:tid 7] ${m}` },
            t + 123,
          ],
          [`${ctime(t)} [pid ${id}] ${m}`, { program: 'vsftpd', pid: id, message: m }, t],
          [`[${local.replace(/-/g, '').replace(' ', '-')}] [INFO ] ${m}`, { program: 'xrdp', message: `[INFO ] ${m}` }, t],
          [`${local} ${id} [Warning] ${m}`, { program: 'mysqld', pid: id, message: `[Warning] ${m}` }, t],
          [`${local}.512 CET [${id}] ${m}`, { program: '', pid: id, message: m }, t + 512],
        ];
        for (const [line, want, time] of cases) {
          const record = parseLogLine(line);
          expect(record, line).toMatchObject(want);
          expect(logTime(record!, t), line).toBe(time);
        }
      }),
      runs,
    );
  });

  it('never throws, and what it parses has a bounded program and a message taken from the line', () => {
    const noise = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .tuple(
          fc.constantFrom(
            '',
            '<13>',
            '<191>1 ',
            'Jan  5 10:00:00 ',
            'Feb 30 99:99:99 ',
            '2024-01-05T10:00:00Z ',
            '2024-01-05 10:00:00 ',
            '2024/01/05 10:00:00 [error] ',
            '[Fri Jan 05 10:00:00 2024] ',
            'Fri Jan  5 10:00:00 2024 ',
            '[20240105-10:00:00] ',
            '240105 10:00:00 ',
          ),
          fc.string({ unit: fc.constantFrom('a', ' ', ':', '[', ']', '(', ')', '<', '>', '1', '-', '\\', '"'), maxLength: 60 }),
        )
        .map(([head, rest]) => head + rest),
    );
    fc.assert(
      fc.property(noise, (line) => {
        const record = parseLogLine(line);
        if (!record) return;
        expect(record.program.length).toBeLessThanOrEqual(64);
        expect(record.program).not.toContain(' ');
        if (!record.message.startsWith('pam_'))
          expect(line.endsWith(record.message) || line.replace('\ufeff', '').endsWith(record.message)).toBe(true);
        expect(typeof logTime(record, Date.now())).toBe('number');
      }),
      { numRuns: 5000 },
    );
  });
});

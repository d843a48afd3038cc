import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../src/auth/classify.js';
import { parseJournalLine } from '../../src/auth/journal-entry.js';
import { AuthPipeline } from '../../src/auth/pipeline.js';
import { parseSyslogLine } from '../../src/auth/syslog-line.js';
import { lastDpkgLogTime, parseDiversions, parseMd5sums } from '../../src/integrity/dpkg.js';
import { baselineFileEntrySchema } from '../../src/integrity/file-state.js';
import { readListenerBaseline } from '../../src/network/judge-listeners.js';
import { readProcessBaseline } from '../../src/processes/process-baseline.js';
import type { BaselineEntries } from '../../src/baseline/baseline.js';
import { parseCmdline } from '../../src/procfs/cmdline.js';
import { parseNetTable, type IpFamily } from '../../src/procfs/net.js';
import { parseSocketLink } from '../../src/procfs/socket-owners.js';
import { emptyStatFields, parseStatBytes } from '../../src/procfs/stat.js';
import { parseStatmBytes } from '../../src/procfs/statm.js';
import { ProcParseError } from '../../src/procfs/errors.js';
import { loadFollowState } from '../../src/tail/position.js';
import { tempDir } from '../helpers/cli.js';

/**
 * Property tests on the collectors' parsers of untrusted text — log lines, journal JSON, /proc and
 * dpkg files, saved positions and baseline sections: any input gives a value (or the parser's own
 * typed error), never another exception and never a hang.
 */
const runs = { numRuns: 3000 };
const text = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: 'grapheme', maxLength: 120 }),
);
/** Text shaped like the real thing with noise inside, so parsers get past their first check. */
const syslogish = fc
  .tuple(
    fc.constantFrom('Nov 26 10:00:00 ', '2026-11-26T10:00:00.123456+00:00 ', '<38>1 2026-11-26T10:00:00Z ', '<86>'),
    fc.string({ maxLength: 20 }),
    fc.constantFrom(' sshd[12]: ', ' sudo: ', ' su[1]: ', ' login: ', ': '),
    text,
  )
  .map((parts) => parts.join(''));
const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));

describe("hostile input to the collectors' parsers", () => {
  it('syslog lines (RFC 3164, RFC 5424, ISO-8601) parse or are refused', () => {
    fc.assert(
      fc.property(fc.oneof(text, syslogish), (line) => {
        const record = parseSyslogLine(line);
        if (record) expect(typeof record.message).toBe('string');
      }),
      runs,
    );
  });

  it('auth messages classify or match nothing, for every program', () => {
    fc.assert(
      fc.property(fc.constantFrom('sshd', 'sshd-session', 'sudo', 'su', 'login', 'cron'), text, (program, message) => {
        classifyMessage(program, message);
        classifyMessage(program, `Failed password for ${message}`);
        classifyMessage(program, `pam_unix(sshd:auth): authentication failure; ${message}`);
      }),
      runs,
    );
  });

  it('the whole auth pipeline counts junk as unparsed and never a negative or fractional attempt', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(text, syslogish), { maxLength: 40 }), (lines) => {
        const pipeline = new AuthPipeline(() => 'invalid');
        pipeline.syslogLines('fuzz', lines);
        const total = pipeline.totalFailures();
        expect(Number.isInteger(total) && total >= 0).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('journalctl JSON lines parse into an entry, an entry without a message, or "not JSON"', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          json,
          json.map((j) => j.slice(0, Math.max(1, j.length - 3))),
        ),
        (line) => {
          expect(['entry', 'no_message', 'not_json']).toContain(parseJournalLine(line).kind);
        },
      ),
      runs,
    );
    const entryish = fc.record(
      {
        MESSAGE: fc.oneof(fc.string(), fc.array(fc.integer({ min: -5, max: 300 })), fc.constant(null)),
        SYSLOG_IDENTIFIER: fc.oneof(fc.string(), fc.integer()),
        __CURSOR: fc.oneof(fc.string(), fc.constant(7)),
        _PID: fc.oneof(fc.string(), fc.integer()),
        __REALTIME_TIMESTAMP: fc.oneof(fc.string(), fc.integer()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(entryish, (e) => {
        expect(['entry', 'no_message', 'not_json']).toContain(parseJournalLine(JSON.stringify(e)).kind);
      }),
      runs,
    );
  });

  it('/proc/PID/stat bytes parse or raise a located ProcParseError', () => {
    const fields = emptyStatFields();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          parseStatBytes(bytes, bytes.length, fields, '/proc/1/stat');
        } catch (error) {
          if (!(error instanceof ProcParseError)) throw error;
        }
      }),
      runs,
    );
  });

  it('/proc/PID/statm bytes parse or raise a located ProcParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseStatmBytes(bytes, bytes.length, '/proc/1/statm');
        } catch (error) {
          if (!(error instanceof ProcParseError)) throw error;
        }
      }),
      runs,
    );
  });

  it('/proc/net tables, socket links and command lines never throw', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    fc.assert(
      fc.property(text, fc.constantFrom('tcp', 'udp'), fc.constantFrom<IpFamily>(4, 6), (body, protocol, family) => {
        parseNetTable(header + body, protocol as 'tcp', family);
        parseNetTable(body, protocol as 'tcp', family);
        parseSocketLink(body);
        parseCmdline(body);
      }),
      runs,
    );
  });

  it('dpkg md5sums, diversions and logs parse whatever they hold', () => {
    fc.assert(
      fc.property(text, (body) => {
        parseMd5sums(body);
        parseDiversions(body);
        lastDpkgLogTime(body);
        parseMd5sums(`d41d8cd98f00b204e9800998ecf8427e  ${body}`);
      }),
      runs,
    );
  });

  it('a saved log position file with any content is refused as invalid, never trusted or thrown', () => {
    const dir = tempDir();
    const file = join(dir, 'position.json');
    fc.assert(
      fc.property(fc.oneof(text, json), (content) => {
        writeFileSync(file, content);
        expect(['loaded', 'invalid', 'none']).toContain(loadFollowState(file, '/var/log/auth.log').status);
      }),
      { numRuns: 1000 },
    );
  });

  it('baseline sections of any shape are validated entry by entry: bad entries counted, never thrown', () => {
    const section = fc.dictionary(fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 3 }));
    fc.assert(
      fc.property(section, (generated) => {
        const entries = generated as BaselineEntries;
        readProcessBaseline(entries);
        readListenerBaseline(entries);
        for (const value of Object.values(entries)) baselineFileEntrySchema.safeParse(value);
      }),
      runs,
    );
  });
});

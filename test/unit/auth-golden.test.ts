import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJournalLine } from '../../src/auth/journal-entry.js';
import { parseLogLine } from '../../src/auth/log-line.js';
import { logTime } from '../../src/auth/log-time.js';
import { AuthPipeline, type AuthEvent } from '../../src/auth/pipeline.js';
import type { LogRecord } from '../../src/auth/syslog-line.js';
import { UserClassCache } from '../../src/auth/user-classes.js';
import { UserDirectory } from '../../src/rootfs/users.js';

/**
 * The whole reading of every auth fixture, line by line, against a recorded golden file: the
 * header each line parses to (program, pid, where the message starts, the time its timestamp
 * says), the full event it classifies as (every field, not only the ones an annotation names),
 * and the counters after each file, counted once with events and once without (the fast path
 * that only tests most lines). A change meant to make the reading faster must leave this file
 * byte for byte as it is; a change of classification updates it on purpose (`vitest -u`) and
 * shows in the diff.
 */
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const golden = join(fixtures, 'auth', 'reading.golden.txt');
const now = () => Date.UTC(2024, 11, 31, 12);
const logFiles = readdirSync(join(fixtures, 'auth'))
  .filter((f) => f.endsWith('.log'))
  .sort();

// Timestamps without a zone are local time: read them in one zone whatever the machine's.
const zoneBefore = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'UTC';
});
afterAll(() => {
  if (zoneBefore === undefined) delete process.env.TZ;
  else process.env.TZ = zoneBefore;
});

function newPipeline(): AuthPipeline {
  const users = new UserClassCache(new UserDirectory(join(fixtures, 'rootfs')), 1000, 4096, now);
  return new AuthPipeline((name) => users.classOf(name), now);
}

function header(line: string, record: LogRecord): string {
  const message = line.endsWith(record.message) ? `@${line.length - record.message.length}` : JSON.stringify(record.message);
  const time = logTime(record, now());
  return `${record.program}|${record.pid ?? '-'}|${message}|${record.stampAt}|${Number.isFinite(time) ? new Date(time).toISOString() : 'NaN'}`;
}

function counters(pipeline: AuthPipeline): string {
  return JSON.stringify({
    failures: pipeline.failureRows(),
    successes: pipeline.successRows(),
    messages: pipeline.messageRows(),
    guessed: pipeline.guessedRows(),
  });
}

function readingOf(file: string): string[] {
  const lines = readFileSync(join(fixtures, 'auth', file), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  const out: string[] = [`== ${file}`];
  const described = newPipeline();
  lines.forEach((line, i) => {
    const record = parseLogLine(line);
    let event: AuthEvent | undefined;
    described.syslogLines(file, [line], (_, e) => (event = e));
    out.push(`${i + 1}\t${record ? header(line, record) : 'unparsed'}\t${event ? JSON.stringify(event) : '-'}`);
  });
  const counted = newPipeline();
  counted.syslogLines(file, lines);
  out.push(`counts with events\t${counters(described)}`, `counts without\t${counters(counted)}`);
  return out;
}

const journalFiles = readdirSync(join(fixtures, 'auth'))
  .filter((f) => f.endsWith('.json'))
  .sort();

function journalReading(file: string): string[] {
  const out = [`== ${file}`];
  const described = newPipeline();
  const counted = newPipeline();
  readFileSync(join(fixtures, 'auth', file), 'utf8')
    .trim()
    .split('\n')
    .forEach((line, i) => {
      const parsed = parseJournalLine(line);
      if (parsed.kind !== 'entry') return void out.push(`${i + 1}\t${parsed.kind}`);
      const event = described.record('journal', parsed.entry.record, true);
      counted.record('journal', parsed.entry.record);
      out.push(`${i + 1}\t${JSON.stringify(parsed.entry.record.message)}\t${event ? JSON.stringify(event) : '-'}`);
    });
  out.push(`counts with events\t${counters(described)}`, `counts without\t${counters(counted)}`);
  return out;
}

describe('the reading of every auth fixture', () => {
  it('is the recorded one, line by line: header, event and counters', async () => {
    const reading = [...logFiles.flatMap(readingOf), ...journalFiles.flatMap(journalReading)].join('\n') + '\n';
    expect(reading.split('\n').length).toBeGreaterThan(500);
    await expect(reading).toMatchFileSnapshot(golden);
  });
});

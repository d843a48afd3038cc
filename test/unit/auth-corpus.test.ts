import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthPipeline, type AuthEvent } from '../../src/auth/pipeline.js';
import { authPatterns, authServices } from '../../src/auth/patterns.js';
import { UserClassCache } from '../../src/auth/user-classes.js';
import { UserDirectory } from '../../src/rootfs/users.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
/** Every annotated log: one per service and per header dialect, and the corpus in three timestamp forms. */
const annotatedFiles = readdirSync(join(fixtures, 'auth'))
  .filter((f) => f.endsWith('.log'))
  .sort();
const corpora = ['corpus-rfc3164.log', 'corpus-rfc5424.log', 'corpus-iso8601.log'];
/** The fixtures' lines are from 2024; RFC 3164 timestamps take the year that puts them before "now". */
const now = () => Date.UTC(2024, 11, 31, 12);

type Expected = 'ignored' | 'unparsed' | Record<string, string | number | null>;

interface Expectation {
  readonly line: number;
  readonly text: string;
  readonly expect: Expected;
}

/** The annotated lines of a fixture: each `# expect:` applies to the next log line (fail2ban's failJSON, in our words). */
function annotated(file: string): Expectation[] {
  const lines = readFileSync(join(fixtures, 'auth', file), 'utf8').split('\n');
  const out: Expectation[] = [];
  let pending: Expected | undefined;
  lines.forEach((text, i) => {
    if (text.startsWith('# expect: ')) {
      const body = text.slice('# expect: '.length);
      pending = body === 'ignored' || body === 'unparsed' ? body : (JSON.parse(body) as Record<string, string | number | null>);
      return;
    }
    if (text.startsWith('#') || text === '') return;
    if (pending === undefined) throw new Error(`${file}:${i + 1}: log line without an expectation`);
    out.push({ line: i + 1, text, expect: pending });
    pending = undefined;
  });
  return out;
}

function newPipeline(): AuthPipeline {
  const users = new UserClassCache(new UserDirectory(join(fixtures, 'rootfs')));
  return new AuthPipeline((name) => users.classOf(name), now);
}

/** What an event says, in the annotation keys (only keys an annotation names are compared; null means absent). */
function observed(event: AuthEvent): Record<string, string | number | null> {
  return {
    pattern: event.pattern,
    service: event.service,
    reason: event.outcome === 'failure' ? (event.reason ?? null) : null,
    method: event.method ?? null,
    user: event.user ?? null,
    class: event.userClass ?? null,
    addr: event.address ?? null,
    attempts: event.attempts,
    guessed: event.guessed?.by ?? null,
  };
}

/** Feed the file's lines one at a time, as the pipeline of `serve` would, and compare each event with its annotation. */
function mismatchesOf(file: string, samples: readonly Expectation[]): string[] {
  const pipeline = newPipeline();
  const mismatches: string[] = [];
  for (const sample of samples) {
    let event: AuthEvent | undefined;
    const unparsedBefore = pipeline.source(file).unparsed.not_syslog;
    pipeline.syslogLines(file, [sample.text], (_, e) => (event = e));
    const unparsed = pipeline.source(file).unparsed.not_syslog > unparsedBefore;
    const where = `${file}:${sample.line}`;
    if (sample.expect === 'unparsed') {
      if (!unparsed) mismatches.push(`${where}: parsed, expected unparsed`);
      continue;
    }
    if (unparsed) {
      mismatches.push(`${where}: not parsed`);
      continue;
    }
    if (sample.expect === 'ignored') {
      if (event) mismatches.push(`${where}: matched ${event.pattern}, expected no match`);
      continue;
    }
    if (!event) {
      mismatches.push(`${where}: matched nothing, expected ${String(sample.expect.pattern)}`);
      continue;
    }
    const got = observed(event);
    for (const [key, want] of Object.entries(sample.expect)) {
      if (got[key] !== want) mismatches.push(`${where}: ${key} = ${String(got[key])}, expected ${String(want)}`);
    }
  }
  return mismatches;
}

describe.each(annotatedFiles)('the annotated log %s', (file) => {
  const samples = annotated(file);

  it('classifies every line as annotated, counting attempts in context', () => {
    expect(samples.length).toBeGreaterThan(3);
    expect(mismatchesOf(file, samples)).toEqual([]);
  });

  it('adds up to the attempts a reader counts by hand, read in batches as a file is', () => {
    const pipeline = newPipeline();
    pipeline.syslogLines(
      file,
      samples.map((s) => s.text),
    );
    const annotatedTotal = samples.reduce((sum, s) => sum + (typeof s.expect === 'object' ? Number(s.expect.attempts ?? 0) : 0), 0);
    expect(pipeline.totalFailures()).toBe(annotatedTotal);
  });
});

describe('the annotated logs together', () => {
  const all = annotatedFiles.flatMap((file) => annotated(file));
  const proven = new Set(all.flatMap((s) => (typeof s.expect === 'object' ? [s.expect.pattern] : [])));

  it('prove every pattern of the table with at least one sample', () => {
    expect(authPatterns.map((p) => p.name).filter((name) => !proven.has(name))).toEqual([]);
  });

  it('count a failure of every service in the list from a line of its own', () => {
    const failing = new Set(all.flatMap((s) => (typeof s.expect === 'object' && Number(s.expect.attempts) > 0 ? [s.expect.service] : [])));
    expect(authServices.filter((service) => !failing.has(service))).toEqual([]);
  });

  it('the corpus adds up to the same 35 attempts in its three timestamp forms: sshd and PAM lines of one attempt count once', () => {
    for (const file of corpora) {
      const pipeline = newPipeline();
      pipeline.syslogLines(
        file,
        annotated(file).map((s) => s.text),
      );
      expect(pipeline.totalFailures(), file).toBe(35);
    }
  });
});

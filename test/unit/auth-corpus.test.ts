import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthPipeline, type AuthEvent } from '../../src/auth/pipeline.js';
import { authPatterns } from '../../src/auth/patterns.js';
import { parseSyslogLine } from '../../src/auth/syslog-line.js';
import { UserClassCache } from '../../src/auth/user-classes.js';
import { UserDirectory } from '../../src/rootfs/users.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const corpora = ['corpus-rfc3164.log', 'corpus-rfc5424.log', 'corpus-iso8601.log'];

interface Expectation {
  readonly line: number;
  readonly text: string;
  readonly expect: 'ignored' | 'unparsed' | Record<string, string | number>;
}

/** The annotated lines of a corpus: each `# expect:` applies to the next log line. */
function annotated(file: string): Expectation[] {
  const lines = readFileSync(join(fixtures, 'auth', file), 'utf8').split('\n');
  const out: Expectation[] = [];
  let pending: Expectation['expect'] | undefined;
  lines.forEach((text, i) => {
    if (text.startsWith('# expect: ')) {
      const body = text.slice('# expect: '.length);
      pending = body === 'ignored' || body === 'unparsed' ? body : (JSON.parse(body) as Record<string, string | number>);
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
  return new AuthPipeline((name) => users.classOf(name));
}

/** What an event says, in the corpus's annotation keys (only keys the annotation names are compared). */
function observed(event: AuthEvent | undefined): Record<string, string | number | undefined> {
  if (!event) return {};
  return {
    pattern: event.pattern,
    service: event.service,
    reason: event.outcome === 'failure' ? event.reason : undefined,
    method: event.method,
    user: event.user,
    class: event.userClass,
    addr: event.address,
    attempts: event.attempts,
  };
}

describe.each(corpora)('the annotated corpus %s', (file) => {
  const samples = annotated(file);

  it('classifies every line as annotated, counting attempts in context', () => {
    const pipeline = newPipeline();
    const mismatches: string[] = [];
    for (const sample of samples) {
      const record = parseSyslogLine(sample.text);
      if (sample.expect === 'unparsed') {
        if (record) mismatches.push(`${file}:${sample.line}: parsed, expected unparsed`);
        continue;
      }
      if (!record) {
        mismatches.push(`${file}:${sample.line}: not parsed as syslog`);
        continue;
      }
      const event = pipeline.record(file, record, true);
      if (sample.expect === 'ignored') {
        if (event) mismatches.push(`${file}:${sample.line}: matched ${event.pattern}, expected no match`);
        continue;
      }
      const got = observed(event);
      for (const [key, want] of Object.entries(sample.expect)) {
        if (got[key] !== want) mismatches.push(`${file}:${sample.line}: ${key} = ${String(got[key])}, expected ${String(want)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('proves every pattern of the table with at least one sample', () => {
    const proven = new Set(samples.flatMap((s) => (typeof s.expect === 'object' ? [s.expect.pattern] : [])));
    expect(authPatterns.map((p) => p.name).filter((name) => !proven.has(name))).toEqual([]);
  });

  it('adds up to the attempts a reader counts by hand: sshd and PAM lines of one attempt count once', () => {
    const pipeline = newPipeline();
    for (const sample of samples) {
      const record = parseSyslogLine(sample.text);
      if (record) pipeline.record(file, record);
    }
    const annotatedTotal = samples.reduce((sum, s) => sum + (typeof s.expect === 'object' ? Number(s.expect.attempts ?? 0) : 0), 0);
    expect(pipeline.totalFailures()).toBe(annotatedTotal);
    expect(annotatedTotal).toBe(35);
  });
});

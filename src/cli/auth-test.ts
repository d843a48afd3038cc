import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { parseJournalLine } from '../auth/journal-entry.js';
import { AuthPipeline, type AuthEvent, type CountRow } from '../auth/pipeline.js';
import { parseSyslogLine } from '../auth/syslog-line.js';
import { UserClassCache } from '../auth/user-classes.js';
import { UserDirectory } from '../rootfs/users.js';
import { describeErrno } from '../state/state-dir.js';
import { LineSplitter } from '../tail/line-splitter.js';
import { exitCodes, UsageError } from './exit-codes.js';
import { readGlobalOptions } from './options.js';
import { compareText } from '../text/compare.js';

interface Totals {
  lines: number;
  unparsed: number;
  matched: number;
  truncated: number;
}

/**
 * `auth test [FILE]`, the counterpart of fail2ban-regex: classify every line of an auth log (syslog
 * or `journalctl -o json` lines; stdin when FILE is absent or "-") with the collector's own
 * pipeline and print the counts, or with --format json one object per matched line. Lines
 * starting with '#' (comments in annotated sample logs) are skipped.
 */
export async function runAuthTest(file: string | undefined, command: Command): Promise<number> {
  const options = readGlobalOptions(command);
  const format = command.opts<{ format: 'table' | 'json' }>().format;
  const users = new UserClassCache(new UserDirectory(options.rootfs));
  const pipeline = new AuthPipeline((name) => users.classOf(name));
  const totals: Totals = { lines: 0, unparsed: 0, matched: 0, truncated: 0 };
  const splitter = new LineSplitter(16 * 1024);
  const out: string[] = [];
  const onLines = (lines: readonly string[]) => {
    for (const line of lines) {
      // Annotated sample logs (test/fixtures/auth) carry comments; real logs have no line starting with '#'.
      if (line.startsWith('#')) continue;
      totals.lines++;
      const event = classifyLine(pipeline, line, totals);
      if (!event) continue;
      totals.matched++;
      if (format === 'json') out.push(JSON.stringify(jsonEvent(totals.lines, event)));
    }
    if (out.length > 0) {
      process.stdout.write(out.join('\n') + '\n');
      out.length = 0;
    }
  };
  const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  try {
    for await (const chunk of input) {
      const batch = splitter.push(chunk as Buffer);
      totals.truncated += batch.truncated;
      onLines(batch.lines);
    }
  } catch (error) {
    throw new UsageError(`auth test: ${file ?? 'stdin'}: ${describeErrno(error)}`);
  }
  onLines(splitter.flush().lines);
  if (format === 'table') process.stdout.write(summary(pipeline, totals));
  return exitCodes.ok;
}

function classifyLine(pipeline: AuthPipeline, line: string, totals: Totals): AuthEvent | undefined {
  if (line.startsWith('{')) {
    const parsed = parseJournalLine(line);
    if (parsed.kind === 'entry') return pipeline.record('test', parsed.entry.record, true);
    if (parsed.kind === 'not_json') totals.unparsed++;
    return undefined;
  }
  const record = parseSyslogLine(line);
  if (!record) {
    totals.unparsed++;
    return undefined;
  }
  return pipeline.record('test', record, true);
}

function jsonEvent(line: number, e: AuthEvent): Record<string, unknown> {
  return {
    line,
    service: e.service,
    pattern: e.pattern,
    outcome: e.outcome,
    ...(e.outcome === 'failure' ? { reason: e.reason } : {}),
    ...(e.outcome === 'success' ? { method: e.method } : {}),
    user: e.user ?? null,
    user_class: e.userClass ?? null,
    address: e.address ?? null,
    attempts: e.attempts,
    ...(e.repeat > 1 ? { repeat: e.repeat } : {}),
  };
}

function summary(pipeline: AuthPipeline, totals: Totals): string {
  const ignored = totals.lines - totals.unparsed - totals.matched;
  const sections = [
    `Lines: ${totals.lines} read, ${totals.matched} matched, ${ignored} ignored, ${totals.unparsed} unparsed${totals.truncated ? `, ${totals.truncated} cut at 16 KiB` : ''}\n`,
    table('Failed attempts', ['service', 'reason', 'user_class', 'attempts'], pipeline.failureRows()),
    `Total failed attempts: ${pipeline.totalFailures()}\n`,
    table('Successful logins', ['service', 'method', 'user_class', 'logins'], pipeline.successRows()),
    table('Matched lines by pattern', ['service', 'pattern', 'lines'], pipeline.messageRows()),
  ];
  return sections.join('\n');
}

function table<L extends string>(title: string, header: string[], counts: readonly CountRow<L>[]): string {
  const rows = counts.map((row) => [...Object.values<string>(row.labels), String(row.value)]).sort((a, b) => Number(b.at(-1)) - Number(a.at(-1)) || compareText(a.join(), b.join()));
  if (rows.length === 0) return `${title}: none\n`;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const render = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return `${title}:\n${[header, ...rows].map((r) => '  ' + render(r)).join('\n')}\n`;
}

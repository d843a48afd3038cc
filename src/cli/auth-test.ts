import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { parseJournalLine } from '../auth/journal-entry.js';
import { AuthPipeline, defaultSuccessAfterFailures, type AuthEvent, type CountRow } from '../auth/pipeline.js';
import type { SuccessAfterFailuresPolicy } from '../auth/success-after-failures.js';
import { UserClassCache } from '../auth/user-classes.js';
import { UserDirectory } from '../rootfs/users.js';
import { describeErrno } from '../state/state-dir.js';
import { LineSplitter } from '../tail/line-splitter.js';
import { exitCodes, UsageError } from './exit-codes.js';
import { readGlobalOptions } from './options.js';
import { StandardOutput } from './standard-output.js';
import { compareText } from '../text/compare.js';

/** Bytes per read and the line bound: those of the file follower in `serve`. */
const chunkBytes = 64 * 1024;
const maxLineBytes = 16 * 1024;
const source = 'test';

/**
 * `auth test [FILE]`, the counterpart of fail2ban-regex: classify every line of an auth log (syslog
 * in any dialect, a daemon's own log, or `journalctl -o json` lines; stdin when FILE is absent or
 * "-") with the collector's own pipeline, read in the same chunks and split the same way, and
 * print the counts, or with --format json one object per matched line. Lines starting with '#'
 * (comments in annotated sample logs) are skipped. The policy's auth.success_after_failures
 * (--config.file) decides which logins are reported as guessed.
 */
export async function runAuthTest(file: string | undefined, command: Command): Promise<number> {
  const options = readGlobalOptions(command);
  const format = command.opts<{ format: 'table' | 'json' }>().format;
  const users = new UserClassCache(new UserDirectory(options.rootfs));
  const pipeline = new AuthPipeline((name) => users.classOf(name), Date.now, await successPolicy(options.configFile));
  const output = new StandardOutput();
  const input = new TestInput(pipeline, format === 'json' ? printEvent : undefined);
  const name = file ?? 'stdin';
  try {
    if (file === undefined || file === '-') {
      for await (const chunk of process.stdin) {
        input.push(chunk as Buffer);
        if (!(await output.room())) break;
      }
    } else await readFile(file, input, output);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`auth test: ${name}: ${describeErrno(error)}`);
  }
  if (!output.closed) input.end();
  if (format === 'table') await output.write(summary(pipeline, input.totals));
  // A reader that left early (`| head`) is not an error; a failing output is.
  if (output.error) throw new UsageError(`auth test: standard output: ${describeErrno(output.error)}`);
  return exitCodes.ok;
}

async function successPolicy(configFile: string | undefined): Promise<SuccessAfterFailuresPolicy> {
  if (configFile === undefined) return defaultSuccessAfterFailures;
  const { loadPolicy } = await import('../config/load-policy.js');
  const { failures, window } = loadPolicy(configFile).policy.auth.success_after_failures;
  return { failures, windowMs: window };
}

/** Read in chunks, each classified before the next is read; while stdout is full, wait for its reader. */
async function readFile(file: string, input: TestInput, output: StandardOutput): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    if (fstatSync(fd).isDirectory()) throw new UsageError(`auth test: ${file}: is a directory`);
    const buffer = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      const n = readSync(fd, buffer, 0, chunkBytes, null);
      if (n === 0) break;
      input.push(buffer.subarray(0, n));
      if (!(await output.room())) break;
    }
  } finally {
    closeSync(fd);
  }
}

interface Totals {
  lines: number;
  unparsed: number;
  matched: number;
  truncated: number;
}

type EventPrinter = (out: string[], line: number, event: AuthEvent) => void;

/**
 * Batches of lines into the pipeline, as the file follower hands them over in `serve`. A batch
 * with comments or journal JSON lines is taken apart first; one without (a real log) goes whole.
 */
class TestInput {
  readonly totals: Totals = { lines: 0, unparsed: 0, matched: 0, truncated: 0 };
  private readonly splitter = new LineSplitter(maxLineBytes);
  /** Physical lines before the current batch, comments included. */
  private lineNumber = 0;
  private readonly out: string[] = [];

  constructor(
    private readonly pipeline: AuthPipeline,
    private readonly print: EventPrinter | undefined,
  ) {}

  push(chunk: Buffer): void {
    this.batch(this.splitter.push(chunk));
  }

  end(): void {
    this.batch(this.splitter.flush());
  }

  private batch(batch: { lines: string[]; truncated: number }): void {
    const lines = batch.lines;
    this.totals.truncated += batch.truncated;
    let plain = true;
    for (let i = 0; i < lines.length; i++) {
      const c = lines[i]!.charCodeAt(0);
      if (c === 35 /* # */ || c === 123 /* { */) {
        plain = false;
        break;
      }
    }
    if (plain) this.syslog(lines, undefined);
    else this.mixed(lines);
    this.lineNumber += lines.length;
    if (this.out.length > 0) {
      process.stdout.write(this.out.join('\n') + '\n');
      this.out.length = 0;
    }
  }

  /** Syslog lines through the pipeline; `numbers` maps each to its line in the batch when some were taken out. */
  private syslog(lines: readonly string[], numbers: readonly number[] | undefined): void {
    if (lines.length === 0) return;
    const before = this.pipeline.source(source);
    const unparsed = before.unparsed.not_syslog;
    const matched = before.matched;
    const base = this.lineNumber + 1;
    const print = this.print;
    this.pipeline.syslogLines(source, lines, print && ((i, event) => print(this.out, base + (numbers ? numbers[i]! : i), event)));
    this.totals.lines += lines.length;
    this.totals.unparsed += before.unparsed.not_syslog - unparsed;
    this.totals.matched += before.matched - matched;
  }

  private mixed(lines: readonly string[]): void {
    let syslog: string[] = [];
    let numbers: number[] = [];
    const flush = () => {
      this.syslog(syslog, numbers);
      syslog = [];
      numbers = [];
    };
    lines.forEach((line, i) => {
      const c = line.charCodeAt(0);
      // Annotated sample logs (test/fixtures/auth) carry comments; real logs have no line starting with '#'.
      if (c === 35) return;
      if (c !== 123) {
        syslog.push(line);
        numbers.push(i);
        return;
      }
      flush();
      this.totals.lines++;
      const parsed = parseJournalLine(line);
      if (parsed.kind === 'not_json') this.totals.unparsed++;
      if (parsed.kind !== 'entry') return;
      const event = this.pipeline.record(source, parsed.entry.record, true);
      if (!event) return;
      this.totals.matched++;
      this.print?.(this.out, this.lineNumber + 1 + i, event);
    });
    flush();
  }
}

function printEvent(out: string[], line: number, e: AuthEvent): void {
  out.push(
    JSON.stringify({
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
      ...(e.guessed ? { success_after_failures: { by: e.guessed.by, failures: e.guessed.failures } } : {}),
    }),
  );
}

function summary(pipeline: AuthPipeline, totals: Totals): string {
  const ignored = totals.lines - totals.unparsed - totals.matched;
  const guessed = pipeline.guessedLogins(Number.POSITIVE_INFINITY);
  const sections = [
    `Lines: ${totals.lines} read, ${totals.matched} matched, ${ignored} ignored, ${totals.unparsed} unparsed${totals.truncated ? `, ${totals.truncated} cut at 16 KiB` : ''}\n`,
    table('Failed attempts', ['service', 'reason', 'user_class', 'attempts'], pipeline.failureRows()),
    `Total failed attempts: ${pipeline.totalFailures()}\n`,
    table('Successful logins', ['service', 'method', 'user_class', 'logins'], pipeline.successRows()),
    guessed.length === 0
      ? 'Logins after repeated failures: none\n'
      : `Logins after repeated failures (success_after_failures${guessed.length === 64 ? ', the last 64' : ''}):\n${guessed
          .map(
            (g) =>
              `  ${g.service}  user=${g.user ?? '-'}  address=${g.address ?? '-'}  after ${g.failures} failures ${g.by === 'address' ? 'from the address' : 'for the user'}\n`,
          )
          .join('')}`,
    table('Matched lines by pattern', ['service', 'pattern', 'lines'], pipeline.messageRows()),
  ];
  return sections.join('\n');
}

function table<L extends string>(title: string, header: string[], counts: readonly CountRow<L>[]): string {
  const rows = counts
    .map((row) => [...Object.values<string>(row.labels), String(row.value)])
    .sort((a, b) => Number(b.at(-1)) - Number(a.at(-1)) || compareText(a.join(), b.join()));
  if (rows.length === 0) return `${title}: none\n`;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const render = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return `${title}:\n${[header, ...rows].map((r) => '  ' + render(r)).join('\n')}\n`;
}

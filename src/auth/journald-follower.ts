import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { describeErrno } from '../state/state-dir.js';
import { LineSplitter } from '../tail/line-splitter.js';
import type { StartAt } from '../tail/file-follower.js';
import type { FollowHealth } from '../tail/health.js';
import { parseJournalLine, type JournalEntry } from './journal-entry.js';
import { findJournalEnd } from './journal-start.js';

export interface JournaldFollowerOptions {
  /** A journal file or directory; the system journal when absent. */
  readonly path: string | undefined;
  readonly rootfs: string;
  readonly identifiers: readonly string[];
  readonly cursorFile: string | undefined;
  readonly startAt: StartAt;
  readonly onEntry: (entry: JournalEntry) => void;
  readonly onNotJson: () => void;
  readonly log: Logger;
  readonly journalctl?: string;
  readonly maxLineBytes?: number;
  readonly persistIntervalMs?: number;
  /** As FileFollowerOptions.persistMode: `checkpoint` saves the cursor only in checkpoint(). */
  readonly persistMode?: 'interval' | 'checkpoint';
}

/** How long journalctl (or a lookup of the journal's end) gets to finish once asked to stop, before it is killed. */
const stopGraceMs = 500;

/** Syslog facilities auth (4) and authpriv (10): what rsyslog writes to auth.log. */
const authFacilities = ['4', '10'];

const savedPositionSchema = z.union([
  z.object({ version: z.literal(1), cursor: z.string().min(1) }).strict(),
  // No matching entry existed when following began at the end: everything in the journal is new.
  z.object({ version: z.literal(1), emptyAtStart: z.literal(true) }).strict(),
]);
type SavedPosition = z.infer<typeof savedPositionSchema>;

/**
 * The fields parseJournalLine reads (journalctl adds __CURSOR and the timestamps). Only these: with
 * every field, one entry with a huge user-controlled field (sudo's argv in _CMDLINE) exceeds the
 * line bound and is lost whole.
 */
export const journalFields = ['MESSAGE', 'SYSLOG_IDENTIFIER', 'SYSLOG_PID', '_PID', '_COMM'] as const;

type JournalSelection = Pick<JournaldFollowerOptions, 'path' | 'rootfs' | 'identifiers'>;

/** The journalctl arguments: JSON from the cursor (or the end), auth facilities or the identifiers. */
export function journalctlArgs(options: JournalSelection & Pick<JournaldFollowerOptions, 'startAt'>, cursor: string | undefined): string[] {
  const args = [
    '--follow',
    '--output=json',
    `--output-fields=${journalFields.join(',')}`,
    '--all',
    '--no-pager',
    '--quiet',
    ...journalLocation(options),
  ];
  // --follow implies --lines=10, which holds back all but 10 entries after the cursor until the journal next changes.
  if (cursor !== undefined) args.push(`--after-cursor=${cursor}`, '--lines=all');
  else args.push(options.startAt === 'end' ? '--lines=0' : '--lines=all');
  return [...args, ...journalMatches(options.identifiers)];
}

/** The last entry journalctlArgs would select, as JSON (for its cursor). Without --quiet: a journal it may not read warns. */
export function journalEndArgs(options: JournalSelection): string[] {
  return [
    '--output=json',
    '--output-fields=SYSLOG_IDENTIFIER',
    '--lines=1',
    '--no-pager',
    ...journalLocation(options),
    ...journalMatches(options.identifiers),
  ];
}

function journalLocation(options: Pick<JournaldFollowerOptions, 'path' | 'rootfs'>): string[] {
  if (options.path !== undefined) return [isFile(options.path) ? `--file=${options.path}` : `--directory=${options.path}`];
  return options.rootfs !== '/' ? [`--root=${options.rootfs}`] : [];
}

function journalMatches(identifiers: readonly string[]): string[] {
  return [...identifiers.map((id) => `SYSLOG_IDENTIFIER=${id}`), '+', ...authFacilities.map((f) => `SYSLOG_FACILITY=${f}`)];
}

/**
 * `journalctl --follow --output=json` as a child process, restarted with backoff when it exits,
 * resuming after the last cursor read. The cursor is saved atomically (at most once a second,
 * and at stop), so a restart of the exporter neither recounts nor skips entries. Starting at the
 * end with nothing saved, the cursor of the last entry there is fetched and saved first, so "the
 * end" means the end as of the first start, also for a restart or a respawn before any entry.
 */
export class JournaldFollower {
  linesRead = 0;
  truncatedLines = 0;
  /** Times journalctl exited on its own (or could not be run) and is started again; not the restarts to apply new identifiers. */
  restarts = 0;
  /** Failures to run journalctl, and the lines it printed on stderr: with --quiet, only errors and warnings. */
  readErrors = 0;
  gaps = 0;
  private child: ChildProcess | undefined;
  private cursor: string | undefined;
  /** Follow from the journal's beginning: it held no matching entry when following began at its end. */
  private fromBeginning: boolean;
  private startAt: StartAt;
  private lastSaved = '';
  private starting: Promise<void> | undefined;
  private lastPersistAt = 0;
  private health: FollowHealth = 'ok';
  private reason: string | undefined;
  private lastLineAt: number | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = 1000;
  private persistTimer: NodeJS.Timeout | undefined;
  private identifiers: readonly string[];
  /** journalctl was stopped to apply new identifiers: start it again at once, after the cursor. */
  private respawn = false;
  /** Aborts a lookup of the journal's end still running when stop() has waited its grace. */
  private lookupAbort = new AbortController();

  constructor(private readonly options: JournaldFollowerOptions) {
    this.identifiers = options.identifiers;
    this.startAt = options.startAt;
    const saved = this.loadPosition();
    this.cursor = saved && 'cursor' in saved ? saved.cursor : undefined;
    this.fromBeginning = saved !== undefined && 'emptyAtStart' in saved;
    if (saved) this.lastSaved = JSON.stringify(saved);
  }

  /** A reloaded policy's identifiers: journalctl is restarted after the last entry read, nothing read twice. */
  setIdentifiers(identifiers: readonly string[]): void {
    if (identifiers.join('\0') === this.identifiers.join('\0')) return;
    this.identifiers = identifiers;
    const child = this.child;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.respawn = true;
    void terminate(child);
  }

  status(): { health: FollowHealth; reason: string | undefined; lastLineAt: number | undefined } {
    return { health: this.health, reason: this.reason, lastLineAt: this.lastLineAt };
  }

  start(): void {
    this.stopping = false;
    this.lookupAbort = new AbortController();
    this.starting = this.begin();
  }

  /** `savePosition` as for FileFollower.stop(): a source dropped by a reload saves its cursor in `checkpoint` mode too. */
  async stop(options: { savePosition?: boolean } = {}): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.persistTimer) clearTimeout(this.persistTimer);
    // A starting point found within the grace is saved (and journalctl not started); a slower lookup
    // is killed and none saved, as if the exporter had stopped before starting this source.
    if (this.starting) {
      const abort = setTimeout(() => this.lookupAbort.abort(), stopGraceMs);
      await this.starting;
      clearTimeout(abort);
    }
    const child = this.child;
    if (child && !(await terminate(child))) this.options.log.warn('journalctl did not exit after SIGKILL', { pid: child.pid });
    if (options.savePosition ?? this.options.persistMode !== 'checkpoint') this.persist(true);
  }

  /** Save the cursor of the last entry read (persistMode `checkpoint`: when the counts are published). */
  checkpoint(): void {
    this.persist(true);
  }

  /** Start journalctl; when it would start at the end with nothing saved, first fix that end as the first checkpoint. */
  private async begin(): Promise<void> {
    if (this.cursor === undefined && !this.fromBeginning && this.startAt === 'end') await this.saveStartingPoint();
    if (!this.stopping) this.spawn();
  }

  private async saveStartingPoint(): Promise<void> {
    const end = await findJournalEnd(
      this.options.journalctl ?? 'journalctl',
      journalEndArgs({ ...this.options, identifiers: this.identifiers }),
      { signal: this.lookupAbort.signal },
    );
    if (this.stopping && end.kind === 'unknown') return;
    if (end.kind === 'unknown') {
      this.options.log.warn('cannot find the end of the journal; following from where journalctl starts', { reason: end.reason });
      return;
    }
    if (end.kind === 'last') this.cursor = end.cursor;
    else this.fromBeginning = true;
    // Where following begins is itself a checkpoint: a restart must not apply "start at end" again.
    this.persist(true);
  }

  private spawn(): void {
    const args = journalctlArgs(
      { ...this.options, identifiers: this.identifiers, startAt: this.fromBeginning ? 'beginning' : this.startAt },
      this.cursor,
    );
    const command = this.options.journalctl ?? 'journalctl';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.setHealth('ok');
    const splitter = new LineSplitter(this.options.maxLineBytes ?? 64 * 1024);
    child.stdout?.on('data', (chunk: Buffer) => this.lines(splitter.push(chunk)));
    const errors = new LineSplitter(4096);
    let lastError = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of errors.push(chunk).lines) {
        if (line.trim() === '') continue;
        this.readErrors++;
        lastError = line;
        this.options.log.warn('journalctl', { message: line });
        if (/No journal files were found|Failed to open|No such file/.test(line)) this.setHealth('missing', line);
      }
    });
    child.once('error', (error) => {
      this.readErrors++;
      this.setHealth(describeErrno(error).startsWith('ENOENT') ? 'missing' : 'error', `${command}: ${describeErrno(error)}`);
    });
    child.once('close', (code, signal) => {
      // The splitter is not flushed: journalctl ends each entry with a newline, so a last line
      // without one was cut off as it died, and is read whole after the cursor.
      this.child = undefined;
      if (this.stopping) return;
      if (this.respawn) {
        this.respawn = false;
        this.starting = this.begin();
        return;
      }
      if (/cursor/i.test(lastError) && this.cursor !== undefined) {
        this.options.log.warn('journal cursor refused; continuing from the end of the journal', { cursor: this.cursor });
        this.cursor = undefined;
        this.startAt = 'end';
        this.gaps++;
      }
      if (this.health === 'ok') this.setHealth('error', `journalctl exited (${signal ?? code})${lastError ? `: ${lastError}` : ''}`);
      this.restarts++;
      this.restartTimer = setTimeout(() => (this.starting = this.begin()), this.backoffMs).unref();
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    });
  }

  private lines(batch: { lines: string[]; truncated: number }): void {
    if (batch.lines.length === 0) return;
    this.truncatedLines += batch.truncated;
    for (const line of batch.lines) {
      this.linesRead++;
      const parsed = parseJournalLine(line);
      if (parsed.kind === 'not_json') {
        this.options.onNotJson();
        continue;
      }
      const cursor = parsed.kind === 'entry' ? parsed.entry.cursor : parsed.cursor;
      if (parsed.kind === 'entry') this.options.onEntry(parsed.entry);
      if (cursor !== undefined) this.cursor = cursor;
    }
    this.lastLineAt = Date.now();
    this.backoffMs = 1000;
    if (this.health !== 'ok') this.setHealth('ok');
    if (this.options.persistMode !== 'checkpoint') this.persist(false);
  }

  private loadPosition(): SavedPosition | undefined {
    const file = this.options.cursorFile;
    if (!file) return undefined;
    try {
      return savedPositionSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.gaps++;
        this.options.log.warn('saved journal cursor unusable; starting at the end of the journal', {
          file,
          err: String(error).slice(0, 200),
        });
      }
      return undefined;
    }
  }

  private persist(force: boolean): void {
    const file = this.options.cursorFile;
    const position: SavedPosition | undefined =
      this.cursor !== undefined ? { version: 1, cursor: this.cursor } : this.fromBeginning ? { version: 1, emptyAtStart: true } : undefined;
    if (!file || position === undefined) return;
    const text = JSON.stringify(position);
    if (text === this.lastSaved) return;
    const interval = this.options.persistIntervalMs ?? 1000;
    if (!force && Date.now() - this.lastPersistAt < interval) {
      // Save the last cursor of a burst too, not only at the next one.
      this.persistTimer ??= setTimeout(() => {
        this.persistTimer = undefined;
        this.persist(false);
      }, interval).unref();
      return;
    }
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileAtomic(file, text + '\n');
      this.lastSaved = text;
      this.lastPersistAt = Date.now();
    } catch (error) {
      this.options.log.error('cannot save the journal cursor', { file, err: describeErrno(error) });
    }
  }

  private setHealth(health: FollowHealth, reason?: string): void {
    this.health = health;
    this.reason = reason;
  }
}

/**
 * SIGTERM, then SIGKILL after the grace (a journalctl stuck or ignoring SIGTERM). True once it has
 * exited; false if even SIGKILL has not ended it a second later (stuck in the kernel): shutdown
 * does not wait for that.
 */
function terminate(child: ChildProcess): Promise<boolean> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (exited: boolean) => {
      clearTimeout(kill);
      clearTimeout(giveUp);
      child.off('exit', onExit);
      resolve(exited);
    };
    const onExit = () => finish(true);
    const kill = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
    const giveUp = setTimeout(() => finish(false), stopGraceMs + 1000);
    child.once('exit', onExit);
    child.kill('SIGTERM');
  });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return path.endsWith('.journal');
  }
}

import { userClasses, type UserClass } from '../rootfs/users.js';
import { AttemptTracker } from './attempts.js';
import { classifyInto, emptyClassification, type ClassificationSlot } from './classify.js';
import { parseLogLine } from './log-line.js';
import { logTime } from './log-time.js';
import {
  authPatterns,
  authServices,
  failureReasons,
  successMethods,
  type AuthService,
  type FailureReason,
  type PatternOutcome,
  type SuccessMethod,
} from './patterns.js';
import { RecentFailures } from './recent-failures.js';
import { detach } from './detach.js';
import { FailureHistory, type GuessedLogin, type SuccessAfterFailuresPolicy } from './success-after-failures.js';
import { noStamp, type LogRecord, type LogRecordSlot } from './syslog-line.js';

/** What one matched line meant: the unit of `auth test --format json`. */
export interface AuthEvent {
  readonly service: AuthService;
  readonly pattern: string;
  readonly outcome: PatternOutcome;
  readonly reason?: FailureReason;
  readonly method?: SuccessMethod;
  readonly user?: string;
  readonly userClass?: UserClass;
  readonly address?: string;
  /** Authentication attempts this line adds to hostguard_auth_failures_total (0 for echoes). */
  readonly attempts: number;
  /** Lines this one stands for ("message repeated N times"). */
  readonly repeat: number;
  /** For a login: the guessed login it is (success_after_failures). */
  readonly guessed?: GuessedLogin;
}

export type UnparsedReason = 'not_syslog' | 'not_json';

export interface SourceCounts {
  linesRead: number;
  /** Lines a pattern matched. */
  matched: number;
  readonly unparsed: Record<UnparsedReason, number>;
}

/** One series of a counter the pipeline keeps: its label values and count. */
export interface CountRow<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

/** A guessed login as the findings list it: when it was read, for how long it is shown. */
export interface GuessedLoginSeen extends GuessedLogin {
  readonly seenAt: number;
}

const classIndex = indexOf(userClasses);
const S = authServices.length;
const R = failureReasons.length;
const M = successMethods.length;
const C = userClasses.length;
const repeatedNote = /^last message repeated (\d+) times?$/;
/** Guessed logins kept for the findings; the counter has them all. */
const maxGuessedKept = 64;

export const defaultSuccessAfterFailures: SuccessAfterFailuresPolicy = { failures: 5, windowMs: 10 * 60_000 };

interface SourceState {
  readonly counts: SourceCounts;
  readonly tracker: AttemptTracker;
  /** A copy of the last line matched, for old syslogd's "last message repeated N times" (classified again then). */
  readonly lastRecord: LogRecordSlot;
  hasLastRecord: boolean;
}

/** Receives the event of each matched line, with the line's position in the batch. */
export type EventSink = (index: number, event: AuthEvent) => void;

/**
 * The counting side of the collector: lines → header → pattern → attempts → counters, and the
 * logins that came after too many failures. The counters are flat arrays indexed by their bounded
 * label values, so the hot path allocates no keys; they are copied to prom-client at collection.
 * `serve` and `auth test` both count through here.
 */
export class AuthPipeline {
  private readonly failures = new Float64Array(S * R * C);
  private readonly successes = new Float64Array(S * M * C);
  private readonly messages = new Float64Array(authPatterns.length * S);
  private readonly guessedTotal = new Float64Array(S);
  private readonly states = new Map<string, SourceState>();
  readonly recent: RecentFailures;
  readonly history: FailureHistory;
  private guessedSeen: GuessedLoginSeen[] = [];
  /** The clock, read once per batch of lines: what "now" is for the lines of the batch. */
  private batchTime = 0;
  /** Where each line's classification is written: one object for all, read before the next line. */
  private readonly slot = emptyClassification();
  /** Where each line's header is read (most lines), likewise. */
  private readonly recordSlot = emptyRecord();

  constructor(
    private readonly userClass: (name: string | undefined) => UserClass,
    private readonly now: () => number = Date.now,
    successAfterFailures: SuccessAfterFailuresPolicy = defaultSuccessAfterFailures,
  ) {
    this.recent = new RecentFailures(now);
    this.history = new FailureHistory(successAfterFailures);
  }

  source(id: string): SourceCounts {
    return this.state(id).counts;
  }

  /** Lines as read from a file: syslog in any dialect, or a daemon's own log format. `onEvent` receives each matched line's event. */
  syslogLines(sourceId: string, lines: readonly string[], onEvent?: EventSink): void {
    const state = this.state(sourceId);
    state.counts.linesRead += lines.length;
    this.batchTime = this.now();
    for (let i = 0; i < lines.length; i++) {
      const record = parseLogLine(lines[i]!, this.recordSlot);
      if (!record) {
        state.counts.unparsed.not_syslog++;
        continue;
      }
      const event = this.match(state, record, onEvent !== undefined);
      if (event) onEvent!(i, event);
    }
  }

  /** One message with its program and pid (a journal entry); its event when `describe`. */
  record(sourceId: string, record: LogRecord, describe: true): AuthEvent | undefined;
  record(sourceId: string, record: LogRecord, describe?: false): undefined;
  record(sourceId: string, record: LogRecord, describe = false): AuthEvent | undefined {
    this.batchTime = this.now();
    return this.match(this.state(sourceId), record, describe);
  }

  private match(state: SourceState, record: LogRecord, describe: boolean): AuthEvent | undefined {
    const c = this.slot;
    if (classifyInto(record.program, record.message, c, describe)) {
      state.counts.matched++;
      copyRecord(state.lastRecord, record);
      state.hasLastRecord = true;
      return this.count(state, record, c, describe);
    }
    const last = state.hasLastRecord ? state.lastRecord : undefined;
    if (record.program === '' && last && record.message.startsWith('last message repeated ')) {
      const m = repeatedNote.exec(record.message);
      if (!m || !classifyInto(last.program, last.message, c, describe)) return undefined;
      c.repeat *= Math.min(Number(m[1]), 1_000_000);
      state.counts.matched++;
      return this.count(state, last, c, describe);
    }
    return undefined;
  }

  private count(state: SourceState, record: LogRecord, c: ClassificationSlot, describe: boolean): AuthEvent | undefined {
    const service = c.serviceIndex;
    this.messages[c.patternIndex * S + service]! += c.repeat;
    const outcome = c.outcome;
    if (outcome === 'notice' && !describe) return undefined;
    // A connection is one process: its pid within its source (pids of live processes are unique).
    const attempts = outcome === 'notice' ? 0 : state.tracker.attempts(record.pid, c);
    // A line only tested that counts after all (a disconnect of a connection that counted nothing): read its fields now.
    if (attempts > 0 && !c.complete) {
      const repeat = c.repeat;
      classifyInto(record.program, record.message, c, true);
      c.repeat = repeat;
    }
    // An echo's user class is for the events of `auth test` only.
    const userClass = outcome === 'notice' || (!describe && attempts === 0 && outcome !== 'success') ? undefined : this.userClass(c.user);
    let guessed: GuessedLogin | undefined;
    if (attempts > 0 && c.reasonIndex >= 0 && userClass) {
      this.failures[(service * R + c.reasonIndex) * C + classIndex.get(userClass)!]! += attempts;
      this.recent.add(c.service, c.address, attempts, this.batchTime);
      if (this.history.enabled) this.history.failed(c.service, c.user, userClass, c.address, attempts, this.timeOf(record));
    } else if (outcome === 'success' && c.methodIndex >= 0 && userClass) {
      this.successes[(service * M + c.methodIndex) * C + classIndex.get(userClass)!]! += c.repeat;
      if (this.history.enabled) guessed = this.history.succeeded(c.service, c.user, userClass, c.address, this.timeOf(record));
      if (guessed) this.guessed(guessed, service);
    }
    if (!describe) return undefined;
    return {
      service: c.service,
      pattern: c.pattern.name,
      outcome,
      reason: c.reason,
      method: c.method,
      user: c.user,
      userClass,
      address: c.address,
      attempts,
      repeat: c.repeat,
      guessed,
    };
  }

  /** When the line was logged; when it was read if its timestamp does not read. */
  private timeOf(record: LogRecord): number {
    const t = logTime(record, this.batchTime);
    return Number.isFinite(t) ? t : this.batchTime;
  }

  private guessed(login: GuessedLogin, service: number): void {
    this.guessedTotal[service]!++;
    // Copies, not slices of the log line: a slice would keep the whole chunk it was cut from alive.
    const user = login.user === undefined ? undefined : detach(login.user);
    const address = login.address === undefined ? undefined : detach(login.address);
    this.guessedSeen.push({ ...login, user, address, seenAt: this.now() });
    if (this.guessedSeen.length > maxGuessedKept) this.guessedSeen = this.guessedSeen.slice(-maxGuessedKept);
  }

  /** Guessed logins read in the last `forMs` (at most the last 64), oldest first. */
  guessedLogins(forMs: number): readonly GuessedLoginSeen[] {
    const from = this.now() - forMs;
    this.guessedSeen = this.guessedSeen.filter((g) => g.seenAt >= from);
    return this.guessedSeen;
  }

  private state(id: string): SourceState {
    let state = this.states.get(id);
    if (!state) {
      state = {
        counts: { linesRead: 0, matched: 0, unparsed: { not_syslog: 0, not_json: 0 } },
        tracker: new AttemptTracker(),
        lastRecord: emptyRecord(),
        hasLastRecord: false,
      };
      this.states.set(id, state);
    }
    return state;
  }

  failureRows(): CountRow<'service' | 'reason' | 'user_class'>[] {
    return rows(this.failures, (i) => ({
      service: authServices[Math.floor(i / (R * C))]!,
      reason: failureReasons[Math.floor(i / C) % R]!,
      user_class: userClasses[i % C]!,
    }));
  }

  successRows(): CountRow<'service' | 'method' | 'user_class'>[] {
    return rows(this.successes, (i) => ({
      service: authServices[Math.floor(i / (M * C))]!,
      method: successMethods[Math.floor(i / C) % M]!,
      user_class: userClasses[i % C]!,
    }));
  }

  messageRows(): CountRow<'service' | 'pattern'>[] {
    return rows(this.messages, (i) => ({ service: authServices[i % S]!, pattern: authPatterns[Math.floor(i / S)]!.name }));
  }

  guessedRows(): CountRow<'service'>[] {
    return rows(this.guessedTotal, (i) => ({ service: authServices[i]! }));
  }

  /** Total attempts counted, over every label set. */
  totalFailures(): number {
    return this.failures.reduce((a, b) => a + b, 0);
  }
}

function rows<L extends string>(counts: Float64Array, labels: (index: number) => Record<L, string>): CountRow<L>[] {
  const out: CountRow<L>[] = [];
  counts.forEach((value, i) => {
    if (value > 0) out.push({ labels: labels(i), value });
  });
  return out;
}

function emptyRecord(): LogRecordSlot {
  return { program: '', pid: undefined, message: '', line: '', stampAt: noStamp };
}

function copyRecord(to: LogRecordSlot, from: LogRecord): void {
  to.program = from.program;
  to.pid = from.pid;
  to.message = from.message;
  to.line = from.line;
  to.stampAt = from.stampAt;
}

function indexOf<T>(values: readonly T[]): Map<T, number> {
  return new Map(values.map((v, i) => [v, i]));
}

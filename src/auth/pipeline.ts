import type { UserClass } from '../procfs/users.js';
import { AttemptTracker } from './attempts.js';
import { classifyMessage, type Classification } from './classify.js';
import type { AuthService, FailureReason, PatternOutcome, SuccessMethod } from './patterns.js';
import { RecentFailures } from './recent-failures.js';
import { parseSyslogLine, type SyslogRecord } from './syslog-line.js';

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
}

export type UnparsedReason = 'not_syslog' | 'not_json';

export interface SourceCounts {
  linesRead: number;
  readonly unparsed: Record<UnparsedReason, number>;
}

const sep = '\u0000';

/**
 * The counting side of the collector: lines → syslog record → pattern → attempts → counters. All
 * counts live in plain maps keyed by their label values and are copied to prom-client at
 * collection, so the hot path never touches the metrics library.
 */
export class AuthPipeline {
  /** service, reason, user_class → attempts. */
  readonly failures = new Map<string, number>();
  /** service, method, user_class → logins. */
  readonly successes = new Map<string, number>();
  /** service, pattern → matched lines (each repeat counted). */
  readonly messages = new Map<string, number>();
  readonly sources = new Map<string, SourceCounts>();
  readonly recent: RecentFailures;
  private readonly attempts = new AttemptTracker();

  constructor(
    private readonly userClass: (name: string | undefined) => UserClass,
    now: () => number = Date.now,
  ) {
    this.recent = new RecentFailures(now);
  }

  static key(...parts: string[]): string {
    return parts.join(sep);
  }

  static labels(key: string): string[] {
    return key.split(sep);
  }

  source(id: string): SourceCounts {
    let counts = this.sources.get(id);
    if (!counts) {
      counts = { linesRead: 0, unparsed: { not_syslog: 0, not_json: 0 } };
      this.sources.set(id, counts);
    }
    return counts;
  }

  /** Syslog lines as read from a file. */
  syslogLines(sourceId: string, lines: readonly string[]): void {
    const counts = this.source(sourceId);
    counts.linesRead += lines.length;
    for (const line of lines) {
      const record = parseSyslogLine(line);
      if (record) this.record(sourceId, record);
      else counts.unparsed.not_syslog++;
    }
  }

  /** One message with its program and pid (from a syslog line or a journal entry). */
  record(sourceId: string, record: SyslogRecord): AuthEvent | undefined {
    const c = classifyMessage(record.program, record.message);
    if (!c) return undefined;
    return this.count(sourceId, record, c);
  }

  private count(sourceId: string, record: SyslogRecord, c: Classification): AuthEvent {
    const patternKey = AuthPipeline.key(c.service, c.pattern.name);
    this.messages.set(patternKey, (this.messages.get(patternKey) ?? 0) + c.repeat);
    const connection = record.pid === undefined ? undefined : sourceId + sep + record.program + sep + record.pid;
    const attempts = c.pattern.outcome === 'failure' ? this.attempts.attempts(connection, c) : 0;
    if (c.pattern.outcome === 'success' && connection !== undefined) this.attempts.attempts(connection, c);
    const userClass = c.pattern.outcome === 'notice' ? undefined : this.userClass(c.user);
    if (attempts > 0 && c.reason && userClass) {
      const key = AuthPipeline.key(c.service, c.reason, userClass);
      this.failures.set(key, (this.failures.get(key) ?? 0) + attempts);
      this.recent.add(c.service, c.address, attempts);
    } else if (c.pattern.outcome === 'success' && c.method && userClass) {
      const key = AuthPipeline.key(c.service, c.method, userClass);
      this.successes.set(key, (this.successes.get(key) ?? 0) + c.repeat);
    }
    return {
      service: c.service,
      pattern: c.pattern.name,
      outcome: c.pattern.outcome,
      reason: c.reason,
      method: c.method,
      user: c.user,
      userClass,
      address: c.address,
      attempts,
      repeat: c.repeat,
    };
  }

  /** Total attempts counted, over every label set. */
  totalFailures(): number {
    let total = 0;
    for (const n of this.failures.values()) total += n;
    return total;
  }
}

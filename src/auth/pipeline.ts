import { userClasses, type UserClass } from '../rootfs/users.js';
import { AttemptTracker } from './attempts.js';
import { classifyMessage, type Classification } from './classify.js';
import { authPatterns, authServices, failureReasons, successMethods, type AuthService, type FailureReason, type PatternOutcome, type SuccessMethod } from './patterns.js';
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

/** One series of a counter the pipeline keeps: its label values and count. */
export interface CountRow<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

const serviceIndex = indexOf(authServices);
const reasonIndex = indexOf(failureReasons);
const methodIndex = indexOf(successMethods);
const classIndex = indexOf(userClasses);
const S = authServices.length;
const R = failureReasons.length;
const M = successMethods.length;
const C = userClasses.length;

/**
 * The counting side of the collector: lines → syslog record → pattern → attempts → counters. The
 * counters are flat arrays indexed by their bounded label values, so the hot path allocates no
 * keys; they are copied to prom-client at collection.
 */
export class AuthPipeline {
  private readonly failures = new Float64Array(S * R * C);
  private readonly successes = new Float64Array(S * M * C);
  private readonly messages = new Float64Array(authPatterns.length * S);
  readonly sources = new Map<string, SourceCounts>();
  readonly recent: RecentFailures;
  private readonly trackers = new Map<string, AttemptTracker>();

  constructor(
    private readonly userClass: (name: string | undefined) => UserClass,
    now: () => number = Date.now,
  ) {
    this.recent = new RecentFailures(now);
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

  /** One message with its program and pid (from a syslog line or a journal entry); its event when `describe`. */
  record(sourceId: string, record: SyslogRecord, describe: true): AuthEvent | undefined;
  record(sourceId: string, record: SyslogRecord, describe?: false): undefined;
  record(sourceId: string, record: SyslogRecord, describe = false): AuthEvent | undefined {
    const c = classifyMessage(record.program, record.message);
    if (!c) return undefined;
    return this.count(sourceId, record, c, describe);
  }

  private count(sourceId: string, record: SyslogRecord, c: Classification, describe: boolean): AuthEvent | undefined {
    const service = serviceIndex.get(c.service)!;
    this.messages[c.patternIndex * S + service]! += c.repeat;
    const outcome = c.pattern.outcome;
    // A connection is one process: its pid within its source (pids of live processes are unique).
    if (outcome === 'notice' && !describe) return undefined;
    const attempts = outcome === 'notice' ? 0 : this.tracker(sourceId).attempts(record.pid, c);
    const userClass = outcome === 'notice' ? undefined : this.userClass(c.user);
    if (attempts > 0 && c.reason && userClass) {
      this.failures[(service * R + reasonIndex.get(c.reason)!) * C + classIndex.get(userClass)!]! += attempts;
      this.recent.add(c.service, c.address, attempts);
    } else if (outcome === 'success' && c.method && userClass) {
      this.successes[(service * M + methodIndex.get(c.method)!) * C + classIndex.get(userClass)!]! += c.repeat;
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
    };
  }

  private tracker(sourceId: string): AttemptTracker {
    let tracker = this.trackers.get(sourceId);
    if (!tracker) this.trackers.set(sourceId, (tracker = new AttemptTracker()));
    return tracker;
  }

  failureRows(): CountRow<'service' | 'reason' | 'user_class'>[] {
    return rows(this.failures, (i) => ({ service: authServices[Math.floor(i / (R * C))]!, reason: failureReasons[Math.floor(i / C) % R]!, user_class: userClasses[i % C]! }));
  }

  successRows(): CountRow<'service' | 'method' | 'user_class'>[] {
    return rows(this.successes, (i) => ({ service: authServices[Math.floor(i / (M * C))]!, method: successMethods[Math.floor(i / C) % M]!, user_class: userClasses[i % C]! }));
  }

  messageRows(): CountRow<'service' | 'pattern'>[] {
    return rows(this.messages, (i) => ({ service: authServices[i % S]!, pattern: authPatterns[Math.floor(i / S)]!.name }));
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

function indexOf<T>(values: readonly T[]): Map<T, number> {
  return new Map(values.map((v, i) => [v, i]));
}

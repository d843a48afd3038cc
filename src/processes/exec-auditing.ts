import type { AuditControlChange } from '../kaudit/control-event.js';
import type { KernelAuditStatus } from '../kaudit/auditctl.js';

/** Why the exec source is (or was) blind. */
export const auditingOffReasons = ['disabled', 'rules_removed', 'daemon_stopped'] as const;
export type AuditingOffReason = (typeof auditingOffReasons)[number];

/** One stretch during which execs were not recorded: still going on (`untilMs` undefined), or over. */
export interface OffPeriod {
  readonly reason: AuditingOffReason;
  readonly sinceMs: number;
  readonly untilMs: number | undefined;
  /** How it was learned: a log record (with the login uid of who did it, when set), or the kernel's own answer. */
  readonly evidence: string;
}

/** What the kernel said when asked (auditctl -s and -l), at `atMs`. */
export interface KernelAuditView {
  readonly atMs: number;
  readonly status: KernelAuditStatus;
  readonly ruleKeys: ReadonlySet<string>;
}

/**
 * Whether auditing of execs is on, from what the log says about itself (CONFIG_CHANGE, DAEMON_*)
 * and, where the exporter may ask, from the kernel. Turning auditing off and back on again is not
 * forgotten when it comes back: the stretch stays known, so that the execs it hid are not
 * silently missing. State and pure logic, no reading: the collector feeds it.
 */
export class ExecAuditing {
  private readonly open = new Map<AuditingOffReason, OffPeriod>();
  private closed: OffPeriod[] = [];

  constructor(private readonly ruleKey: () => string) {}

  /** A change read from the log. */
  change(c: AuditControlChange): void {
    const who = 'auid' in c && c.auid !== undefined ? ` by login uid ${c.auid}` : '';
    switch (c.change) {
      case 'enabled':
        if (c.enabled) this.end('disabled', c.timeMs);
        else this.begin('disabled', c.timeMs, `CONFIG_CHANGE audit_enabled=0${who} (auditctl -e 0)`);
        break;
      case 'rule_removed':
        if (c.keys.includes(this.ruleKey()))
          this.begin('rules_removed', c.timeMs, `CONFIG_CHANGE remove_rule key=${this.ruleKey()}${who} (auditctl -D or -d)`);
        break;
      case 'rule_added':
        if (c.keys.includes(this.ruleKey())) this.end('rules_removed', c.timeMs);
        break;
      case 'daemon_started':
        // auditd enables auditing as it starts, and its rules are loaded by the same service.
        this.end('daemon_stopped', c.timeMs);
        this.end('disabled', c.timeMs);
        break;
      case 'daemon_stopped':
        this.begin('daemon_stopped', c.timeMs, 'DAEMON_END or DAEMON_ABORT: auditd stopped writing the log');
        break;
    }
  }

  /** An exec was recorded: whatever was off is on again, at the latest now. */
  execSeen(timeMs: number, keys: readonly string[]): void {
    this.end('disabled', timeMs);
    this.end('daemon_stopped', timeMs);
    if (keys.includes(this.ruleKey())) this.end('rules_removed', timeMs);
  }

  /** The kernel's own answer: it says how things are now, whatever the log said. */
  kernel(view: KernelAuditView): void {
    const key = this.ruleKey();
    this.set('disabled', view.status.enabled === 0, view.atMs, 'auditctl -s: enabled 0');
    this.set('daemon_stopped', view.status.daemonPid === 0, view.atMs, 'auditctl -s: pid 0 (no audit daemon receives the records)');
    this.set('rules_removed', !view.ruleKeys.has(key), view.atMs, `auditctl -l: no rule with key ${key}`);
  }

  /** Why execs are not recorded right now (nothing when auditing is on, as far as known). */
  ongoing(): AuditingOffReason[] {
    return [...this.open.keys()];
  }

  /** Stretches still going on, and those over for less than `holdMs`. */
  periods(nowMs: number, holdMs: number): OffPeriod[] {
    this.closed = this.closed.filter((p) => p.untilMs !== undefined && nowMs - p.untilMs < holdMs);
    return [...this.open.values(), ...this.closed];
  }

  private set(reason: AuditingOffReason, off: boolean, atMs: number, evidence: string): void {
    if (off) this.begin(reason, atMs, evidence);
    else this.end(reason, atMs);
  }

  private begin(reason: AuditingOffReason, atMs: number, evidence: string): void {
    if (!this.open.has(reason)) this.open.set(reason, { reason, sinceMs: atMs, untilMs: undefined, evidence });
  }

  private end(reason: AuditingOffReason, atMs: number): void {
    const period = this.open.get(reason);
    // An exec recorded before the change, read after it (events interleave), ends nothing.
    if (!period || atMs <= period.sinceMs) return;
    this.open.delete(reason);
    this.closed.push({ ...period, untilMs: atMs });
  }
}

import type { Finding } from '../findings/finding.js';
import type { FollowHealth } from '../tail/file-follower.js';
import type { TamperingSeen } from './log-tampering.js';
import { authServices } from './patterns.js';
import type { GuessedLoginSeen } from './pipeline.js';
import type { RecentSummary } from './recent-failures.js';

export const authFindingKinds = {
  source_unavailable: 'An auth log source cannot be read (file missing or unreadable, journalctl failing): failed logins there go uncounted. Warning.',
  recent_failures:
    'Authentication failures of one service in the last 5 minutes. Info: how many is too many is decided by the alert rules on hostguard_auth_failures_total.',
  success_after_failures:
    'A login from an address, or for a user, that failed at least auth.success_after_failures.failures times within the window before it (by the lines\' own timestamps): brute force that worked. Critical. Listed for auth.findings_for; user and address redacted unless --findings.show-details.',
  log_tampered:
    'An auth log was truncated, emptied, deleted or replaced outside a rotation (no rotated or compressed copy of its content beside it, or a link to /dev/null at its path), or journal files were removed that journald itself would not remove. Critical. Listed for auth.findings_for.',
} as const;

export interface SourceHealth {
  readonly id: string;
  readonly type: 'file' | 'journald';
  readonly health: FollowHealth;
  readonly reason: string | undefined;
}

/** What the auth judgment looks at in one collection. */
export interface AuthObservations {
  readonly sources: readonly SourceHealth[];
  readonly recent?: RecentSummary;
  readonly guessedLogins?: readonly GuessedLoginSeen[];
  readonly tamperings?: readonly TamperingSeen[];
}

/** Judgment: pure, from the sources' health, the last minutes' failures, guessed logins and tamperings to findings. */
export function authFindings({ sources, recent, guessedLogins = [], tamperings = [] }: AuthObservations): Finding[] {
  const findings: Finding[] = [];
  for (const source of sources) {
    if (source.health === 'ok') continue;
    findings.push({
      collector: 'auth',
      kind: 'source_unavailable',
      severity: 'warning',
      subject: { source: source.id, type: source.type },
      message: `${source.id} is ${source.health}${source.reason ? ` (${source.reason})` : ''}: authentication events there are not counted`,
    });
  }
  for (const login of guessedLogins) {
    const who = login.user ?? 'a user';
    const from = login.address === undefined ? '' : ` from ${login.address}`;
    const what = login.by === 'address' ? `from that address` : `for ${who}`;
    findings.push({
      collector: 'auth',
      kind: 'success_after_failures',
      severity: 'critical',
      subject: { service: login.service, user: login.user ?? '', remote_address: login.address ?? '', at: new Date(login.at).toISOString() },
      message: `${who} logged in to ${login.service}${from} at ${new Date(login.at).toISOString()} after at least ${login.failures} failed attempts ${what} within the window before it: a guessed password, or a stolen one, worked`,
    });
  }
  for (const t of tamperings) {
    findings.push({
      collector: 'auth',
      kind: 'log_tampered',
      severity: 'critical',
      subject: { source: t.source, path: t.path, tampering: t.kind, seen: new Date(t.seenAt).toISOString() },
      message: `${t.path} ${t.detail}: authentication records were destroyed outside a log rotation`,
    });
  }
  if (!recent) return findings;
  for (const service of authServices) {
    const failures = recent.failures5m[service];
    if (failures === 0) continue;
    findings.push({
      collector: 'auth',
      kind: 'recent_failures',
      severity: 'info',
      subject: { service },
      message: `${failures} ${service} authentication failure${failures === 1 ? '' : 's'} in the last 5 minutes, from about ${recent.distinctSources5m} source address${recent.distinctSources5m === 1 ? '' : 'es'} (all services)`,
    });
  }
  return findings;
}

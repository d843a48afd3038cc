import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import type { FollowHealth } from '../tail/health.js';
import { authKinds } from './kinds.js';
import type { TamperingSeen } from './log-tampering.js';
import { authServices } from './patterns.js';
import type { GuessedLoginSeen } from './pipeline.js';
import type { RecentSummary } from './recent-failures.js';

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
    const message = `${source.id} is ${source.health}${source.reason ? ` (${source.reason})` : ''}: authentication events there are not counted`;
    findings.push(finding(authKinds.source_unavailable, { source: source.id, type: source.type }, message));
  }
  for (const login of guessedLogins) {
    const who = login.user ?? 'a user';
    const from = login.address === undefined ? '' : ` from ${login.address}`;
    const what = login.by === 'address' ? `from that address` : `for ${who}`;
    const at = new Date(login.at).toISOString();
    const message = `${who} logged in to ${login.service}${from} at ${at} after at least ${login.failures} failed attempts ${what} within the window before it: a guessed password, or a stolen one, worked`;
    findings.push(
      finding(
        authKinds.success_after_failures,
        { service: login.service, user: login.user ?? '', remote_address: login.address ?? '', at },
        message,
      ),
    );
  }
  for (const t of tamperings) {
    const message = `${t.path} ${t.detail}: authentication records were destroyed outside a log rotation`;
    findings.push(
      finding(
        authKinds.log_tampered,
        { source: t.source, path: t.path, tampering: t.kind, seen: new Date(t.seenAt).toISOString() },
        message,
      ),
    );
  }
  if (!recent) return findings;
  for (const service of authServices) {
    const failures = recent.failures5m[service];
    if (failures === 0) continue;
    const message = `${failures} ${service} authentication failure${failures === 1 ? '' : 's'} in the last 5 minutes, from about ${recent.distinctSources5m} source address${recent.distinctSources5m === 1 ? '' : 'es'} (all services)`;
    findings.push(finding(authKinds.recent_failures, { service }, message));
  }
  return findings;
}

import type { Finding } from '../findings/finding.js';
import type { FollowHealth } from '../tail/file-follower.js';
import { authServices } from './patterns.js';
import type { RecentSummary } from './recent-failures.js';

export const authFindingKinds = {
  source_unavailable: 'An auth log source cannot be read (file missing or unreadable, journalctl failing): failed logins there go uncounted. Warning.',
  recent_failures:
    'Authentication failures of one service in the last 5 minutes. Info: how many is too many is decided by the alert rules on hostguard_auth_failures_total.',
} as const;

export interface SourceHealth {
  readonly id: string;
  readonly type: 'file' | 'journald';
  readonly health: FollowHealth;
  readonly reason: string | undefined;
}

/** Judgment: pure, from the sources' health and the last minutes' failures to findings. */
export function authFindings(sources: readonly SourceHealth[], recent: RecentSummary | undefined): Finding[] {
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

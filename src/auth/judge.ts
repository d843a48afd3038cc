import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import type { FollowHealth } from '../tail/health.js';
import { authKinds } from './kinds.js';
import { authServices } from './patterns.js';
import type { RecentSummary } from './recent-failures.js';

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
    const message = `${source.id} is ${source.health}${source.reason ? ` (${source.reason})` : ''}: authentication events there are not counted`;
    findings.push(finding(authKinds.source_unavailable, { source: source.id, type: source.type }, message));
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

import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import type { FollowHealth } from '../tail/health.js';
import { alertSeverities, type AlertSeverity } from './classes.js';
import { idsKinds } from './kinds.js';

export interface IdsSourceState {
  readonly id: string;
  readonly tool: string;
  readonly health: FollowHealth;
  readonly reason: string | undefined;
  /** When the file was last written (ms), undefined when it cannot be read. */
  readonly modifiedAt: number | undefined;
  readonly maxSilenceSeconds: number;
  /** Alerts of the last 5 minutes by severity; undefined when the source is not followed (`check`). */
  readonly recent: Readonly<Record<AlertSeverity, number>> | undefined;
}

const findingSeverity: Record<AlertSeverity, (typeof idsKinds.recent_alerts.severities)[number]> = {
  critical: 'critical',
  high: 'warning',
  medium: 'info',
  low: 'info',
  unknown: 'info',
};

/** Judgment: pure, from each source's state at `now` (ms) to findings. */
export function idsFindings(sources: readonly IdsSourceState[], now: number): Finding[] {
  const findings: Finding[] = [];
  for (const s of sources) {
    if (s.health !== 'ok') {
      findings.push(
        finding(
          idsKinds.source_unavailable,
          { source: s.id, tool: s.tool },
          `${s.tool} output ${s.id} is ${s.health}${s.reason ? ` (${s.reason})` : ''}: its alerts are not counted`,
        ),
      );
    } else if (s.maxSilenceSeconds > 0 && s.modifiedAt !== undefined && now - s.modifiedAt > s.maxSilenceSeconds * 1000) {
      const message = `${s.tool} has not written ${s.id} for ${Math.round((now - s.modifiedAt) / 1000)} s (allowed: ${s.maxSilenceSeconds} s): the IDS may be dead`;
      findings.push(finding(idsKinds.source_silent, { source: s.id, tool: s.tool }, message));
    }
    for (const severity of alertSeverities) {
      const count = s.recent?.[severity] ?? 0;
      if (count === 0) continue;
      const message = `${count} ${severity}-severity ${s.tool} alert${count === 1 ? '' : 's'} from ${s.id} in the last 5 minutes`;
      findings.push(
        finding(idsKinds.recent_alerts, { source: s.id, tool: s.tool, alert_severity: severity }, message, findingSeverity[severity]),
      );
    }
  }
  return findings;
}

import type { Finding, Severity } from '../findings/finding.js';
import type { FollowHealth } from '../tail/file-follower.js';
import { alertSeverities, type AlertSeverity } from './classes.js';

export const idsFindingKinds = {
  source_unavailable: 'An IDS output file cannot be read (missing, unreadable): alerts written there go uncounted. Warning.',
  source_silent:
    'An IDS output file has not been written for longer than its `max_silence`: the IDS stopped, lost its interface or writes to a rotated-away file. Warning.',
  recent_alerts:
    'Alerts of one severity from one source in the last 5 minutes: critical for critical, warning for high, info below. Which alerts page is for the rules on hostguard_ids_alerts_total.',
} as const;

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

const findingSeverity: Record<AlertSeverity, Severity> = { critical: 'critical', high: 'warning', medium: 'info', low: 'info', unknown: 'info' };

/** Judgment: pure, from each source's state at `now` (ms) to findings. */
export function idsFindings(sources: readonly IdsSourceState[], now: number): Finding[] {
  const findings: Finding[] = [];
  for (const s of sources) {
    if (s.health !== 'ok') {
      findings.push({
        collector: 'ids',
        kind: 'source_unavailable',
        severity: 'warning',
        subject: { source: s.id, tool: s.tool },
        message: `${s.tool} output ${s.id} is ${s.health}${s.reason ? ` (${s.reason})` : ''}: its alerts are not counted`,
      });
    } else if (s.maxSilenceSeconds > 0 && s.modifiedAt !== undefined && now - s.modifiedAt > s.maxSilenceSeconds * 1000) {
      findings.push({
        collector: 'ids',
        kind: 'source_silent',
        severity: 'warning',
        subject: { source: s.id, tool: s.tool },
        message: `${s.tool} has not written ${s.id} for ${Math.round((now - s.modifiedAt) / 1000)} s (allowed: ${s.maxSilenceSeconds} s): the IDS may be dead`,
      });
    }
    for (const severity of alertSeverities) {
      const count = s.recent?.[severity] ?? 0;
      if (count === 0) continue;
      findings.push({
        collector: 'ids',
        kind: 'recent_alerts',
        severity: findingSeverity[severity],
        subject: { source: s.id, tool: s.tool, alert_severity: severity },
        message: `${count} ${severity}-severity ${s.tool} alert${count === 1 ? '' : 's'} from ${s.id} in the last 5 minutes`,
      });
    }
  }
  return findings;
}

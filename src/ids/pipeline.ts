import type { IdsTool } from '../config/sections/ids.js';
import { alertCategories, alertSeverities, type AlertCategory, type AlertSeverity } from './classes.js';
import { parseIdsLine, unparsedReasons, type IdsAlert, type UnparsedReason } from './events.js';
import { RecentAlerts } from './recent-alerts.js';

const S = alertSeverities.length;
const C = alertCategories.length;
const severityIndex = new Map(alertSeverities.map((s, i) => [s, i]));
const categoryIndex = new Map(alertCategories.map((c, i) => [c, i]));
// An event time further ahead than this is a broken clock or field: the time it was read is used instead.
const maxFutureMs = 86_400_000;

/** What one source has yielded since the exporter started. */
export class IdsSourceCounts {
  /** Alerts by severity × category. */
  readonly alerts = new Float64Array(S * C);
  linesRead = 0;
  readonly unparsed: Record<UnparsedReason, number> = Object.fromEntries(unparsedReasons.map((r) => [r, 0])) as Record<
    UnparsedReason,
    number
  >;
  /** Fragments of events a writer left unfinished, glued to the next event and dropped. */
  fragments = 0;
  /** Time of the newest alert (ms since the epoch): the event's own time, or when it was read. */
  lastAlertAt: number | undefined;

  constructor(readonly tool: IdsTool) {}

  alertRows(): { severity: AlertSeverity; category: AlertCategory; value: number }[] {
    const rows: { severity: AlertSeverity; category: AlertCategory; value: number }[] = [];
    this.alerts.forEach((value, i) =>
      rows.push({ severity: alertSeverities[Math.floor(i / C)]!, category: alertCategories[i % C]!, value }),
    );
    return rows;
  }

  totalAlerts(): number {
    return this.alerts.reduce((a, b) => a + b, 0);
  }
}

/** The counting side of the ids collector: lines → events → alerts → counters and recent windows. */
export class IdsPipeline {
  readonly sources = new Map<string, IdsSourceCounts>();
  readonly recent: RecentAlerts;

  constructor(private readonly now: () => number = Date.now) {
    this.recent = new RecentAlerts(now);
  }

  source(id: string, tool: IdsTool): IdsSourceCounts {
    let counts = this.sources.get(id);
    if (!counts || counts.tool !== tool) this.sources.set(id, (counts = new IdsSourceCounts(tool)));
    return counts;
  }

  /** Lines as read from a source file, in order. */
  lines(sourceId: string, tool: IdsTool, lines: readonly string[]): void {
    const counts = this.source(sourceId, tool);
    counts.linesRead += lines.length;
    const fragment = () => counts.fragments++;
    for (const line of lines) {
      if (line === '') continue;
      const parsed = parseIdsLine(tool, line, fragment);
      if (parsed.kind === 'alert') this.count(sourceId, counts, parsed.alert);
      else if (parsed.kind === 'unparsed') counts.unparsed[parsed.reason]++;
    }
  }

  private count(sourceId: string, counts: IdsSourceCounts, alert: IdsAlert): void {
    counts.alerts[severityIndex.get(alert.severity)! * C + categoryIndex.get(alert.category)!]! += 1;
    const now = this.now();
    const at = alert.at !== undefined && alert.at <= now + maxFutureMs ? alert.at : now;
    if (counts.lastAlertAt === undefined || at > counts.lastAlertAt) counts.lastAlertAt = at;
    this.recent.add(sourceId, counts.tool, alert.severity, alert.signatureId, alert.signature);
  }
}

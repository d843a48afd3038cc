import { countBounded } from '../counting/bounded-counts.js';
import { TimeBuckets } from '../counting/time-buckets.js';
import { compareText } from '../text/compare.js';
import { alertSeverities, type AlertSeverity } from './classes.js';

const bucketMs = 30_000;
const buckets = 30; // 15 minutes
const S = alertSeverities.length;
const severityIndex = new Map(alertSeverities.map((s, i) => [s, i]));

interface Bucket {
  /** Alerts per source, by severity index. */
  readonly bySource: Map<string, Float64Array>;
  /** Alerts per signature (tool, id, text joined by NUL), bounded; kept only when a top-N is asked for. */
  readonly bySignature: Map<string, number>;
}

export interface TopSignature {
  readonly tool: string;
  readonly signatureId: string;
  readonly signature: string;
  readonly alerts: number;
}

/**
 * Alerts of the last 15 minutes in 30-second buckets: per source and severity (for the findings'
 * last 5 minutes) and, when asked for, per signature (for the top-N). Memory is fixed: 30 buckets,
 * each with one small array per source and at most `perSignatureCap` signatures.
 */
export class RecentAlerts {
  private readonly ring: TimeBuckets<Bucket>;

  constructor(
    now: () => number = Date.now,
    /** Signatures kept per bucket for the top-N; 0 keeps none. */
    public perSignatureCap = 0,
  ) {
    this.ring = new TimeBuckets<Bucket>(bucketMs, buckets, () => ({ bySource: new Map(), bySignature: new Map() }), clearBucket, now);
  }

  add(sourceId: string, tool: string, severity: AlertSeverity, signatureId: string, signature: string): void {
    const bucket = this.ring.current();
    let counts = bucket.bySource.get(sourceId);
    if (!counts) bucket.bySource.set(sourceId, (counts = new Float64Array(S)));
    counts[severityIndex.get(severity)!]! += 1;
    if (this.perSignatureCap > 0) countBounded(bucket.bySignature, `${tool}\0${signatureId}\0${signature}`, 1, this.perSignatureCap);
  }

  /** Alerts of one source in the last 5 minutes, by severity. */
  lastFiveMinutes(sourceId: string): Record<AlertSeverity, number> {
    const totals = Object.fromEntries(alertSeverities.map((s) => [s, 0])) as Record<AlertSeverity, number>;
    for (const b of this.ring.live(10)) {
      const counts = b.bySource.get(sourceId);
      if (counts) alertSeverities.forEach((s, i) => (totals[s] += counts[i]!));
    }
    return totals;
  }

  /** The `n` signatures with most alerts in the last 15 minutes (approximate beyond the per-bucket cap). */
  topSignatures(n: number): TopSignature[] {
    const totals = new Map<string, number>();
    for (const b of this.ring.live()) for (const [key, count] of b.bySignature) totals.set(key, (totals.get(key) ?? 0) + count);
    return [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))
      .slice(0, n)
      .map(([key, alerts]) => {
        const [tool, signatureId, signature] = key.split('\0') as [string, string, string];
        return { tool, signatureId, signature, alerts };
      });
  }
}

function clearBucket(bucket: Bucket): void {
  bucket.bySource.clear();
  bucket.bySignature.clear();
}

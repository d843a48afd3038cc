import { countBounded } from '../counting/bounded-counts.js';
import { TimeBuckets } from '../counting/time-buckets.js';
import { compareText } from '../text/compare.js';
import { DistinctCount } from './distinct-count.js';
import { detach } from './detach.js';
import { authServices, type AuthService } from './patterns.js';

const bucketMs = 30_000;
const serviceIndex = new Map(authServices.map((s, i) => [s, i]));
const buckets = 30; // 15 minutes

interface Bucket {
  /** Failures per service, by position in authServices. */
  readonly failures: Float64Array;
  readonly sources: DistinctCount;
  /** Failures per source address, bounded (only kept when a top-N is asked for). */
  readonly perSource: Map<string, number>;
}

export interface RecentSummary {
  /** Failures per service in the last 5 minutes. */
  readonly failures5m: Readonly<Record<AuthService, number>>;
  readonly distinctSources5m: number;
  readonly distinctSources15m: number;
}

/**
 * Failures of the last 15 minutes in 30-second buckets: counts per service, a distinct-count sketch
 * of source addresses, and optionally the busiest sources. Memory is fixed: 30 buckets of 1 KiB,
 * plus at most `perSourceCap` addresses per bucket.
 */
export class RecentFailures {
  private readonly ring: TimeBuckets<Bucket>;

  constructor(
    now: () => number = Date.now,
    /** Addresses kept per bucket for the top-N; 0 keeps none. */
    public perSourceCap = 0,
  ) {
    this.ring = new TimeBuckets<Bucket>(
      bucketMs,
      buckets,
      () => ({ failures: new Float64Array(authServices.length), sources: new DistinctCount(), perSource: new Map() }),
      clearBucket,
      now,
    );
  }

  /** `at`: the time now, when the caller has read the clock already (once per batch of lines). */
  add(service: AuthService, address: string | undefined, attempts: number, at?: number): void {
    const bucket = this.ring.current(at);
    bucket.failures[serviceIndex.get(service)!]! += attempts;
    if (address === undefined) return;
    bucket.sources.add(address);
    // A copy, not a slice of the log line: a slice would keep the whole chunk it was cut from alive.
    if (this.perSourceCap > 0)
      countBounded(bucket.perSource, bucket.perSource.has(address) ? address : detach(address), attempts, this.perSourceCap);
  }

  summary(): RecentSummary {
    const last5 = this.ring.live(10);
    const failures5m = Object.fromEntries(authServices.map((s) => [s, 0])) as Record<AuthService, number>;
    for (const b of last5) authServices.forEach((service, i) => (failures5m[service] += b.failures[i]!));
    return {
      failures5m,
      distinctSources5m: DistinctCount.estimate(last5.map((b) => b.sources)),
      distinctSources15m: DistinctCount.estimate(this.ring.live().map((b) => b.sources)),
    };
  }

  /** The `n` addresses with most failures in the last 15 minutes (approximate beyond the per-bucket cap). */
  topSources(n: number): { address: string; failures: number }[] {
    const totals = new Map<string, number>();
    for (const b of this.ring.live()) {
      for (const [address, count] of b.perSource) totals.set(address, (totals.get(address) ?? 0) + count);
    }
    return [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))
      .slice(0, n)
      .map(([address, failures]) => ({ address, failures }));
  }
}

function clearBucket(bucket: Bucket): void {
  bucket.failures.fill(0);
  bucket.sources.clear();
  bucket.perSource.clear();
}

import { DistinctCount } from './distinct-count.js';
import { detach } from './detach.js';
import { authServices, type AuthService } from './patterns.js';
import { compareText } from '../text/compare.js';

const bucketMs = 30_000;
const serviceIndex = new Map(authServices.map((s, i) => [s, i]));
const buckets = 30; // 15 minutes

interface Bucket {
  slot: number;
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
  private readonly ring: Bucket[] = Array.from({ length: buckets }, () => ({ slot: -1, failures: new Float64Array(authServices.length), sources: new DistinctCount(), perSource: new Map() }));

  constructor(
    private readonly now: () => number = Date.now,
    /** Addresses kept per bucket for the top-N; 0 keeps none. */
    public perSourceCap = 0,
  ) {}

  /** `at`: the time now, when the caller has read the clock already (once per batch of lines). */
  add(service: AuthService, address: string | undefined, attempts: number, at: number = this.now()): void {
    const bucket = this.bucket(Math.floor(at / bucketMs));
    bucket.failures[serviceIndex.get(service)!]! += attempts;
    if (address === undefined) return;
    bucket.sources.add(address);
    // A copy, not a slice of the log line: a slice would keep the whole chunk it was cut from alive.
    if (this.perSourceCap > 0) countBounded(bucket.perSource, bucket.perSource.has(address) ? address : detach(address), attempts, this.perSourceCap);
  }

  summary(): RecentSummary {
    const slot = Math.floor(this.now() / bucketMs);
    const last5 = this.live(slot, 10);
    const failures5m = Object.fromEntries(authServices.map((s) => [s, 0])) as Record<AuthService, number>;
    for (const b of last5) authServices.forEach((service, i) => (failures5m[service] += b.failures[i]!));
    return {
      failures5m,
      distinctSources5m: DistinctCount.estimate(last5.map((b) => b.sources)),
      distinctSources15m: DistinctCount.estimate(this.live(slot, buckets).map((b) => b.sources)),
    };
  }

  /** The `n` addresses with most failures in the last 15 minutes (approximate beyond the per-bucket cap). */
  topSources(n: number): { address: string; failures: number }[] {
    const totals = new Map<string, number>();
    for (const b of this.live(Math.floor(this.now() / bucketMs), buckets)) {
      for (const [address, count] of b.perSource) totals.set(address, (totals.get(address) ?? 0) + count);
    }
    return [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))
      .slice(0, n)
      .map(([address, failures]) => ({ address, failures }));
  }

  private live(slot: number, count: number): Bucket[] {
    return this.ring.filter((b) => b.slot > slot - count && b.slot <= slot);
  }

  private bucket(slot: number): Bucket {
    const bucket = this.ring[slot % buckets]!;
    if (bucket.slot !== slot) {
      bucket.slot = slot;
      bucket.failures.fill(0);
      bucket.sources.clear();
      bucket.perSource.clear();
    }
    return bucket;
  }
}

/** Space-saving: when full, a new address replaces the smallest count and inherits it (an over-estimate). */
export function countBounded(counts: Map<string, number>, key: string, n: number, cap: number): void {
  const have = counts.get(key);
  if (have !== undefined) {
    counts.set(key, have + n);
    return;
  }
  if (counts.size < cap) {
    counts.set(key, n);
    return;
  }
  let minKey: string | undefined;
  let min = Number.POSITIVE_INFINITY;
  for (const [k, v] of counts) {
    if (v < min) {
      min = v;
      minKey = k;
    }
  }
  if (minKey !== undefined) counts.delete(minKey);
  counts.set(key, min + n);
}

/**
 * A ring of fixed time buckets: what happened in the last `count × bucketMs`, in fixed memory. A
 * bucket is cleared (`reset`) when its slot comes round again; `live(n)` is the last n buckets.
 */
export class TimeBuckets<B extends object> {
  private readonly ring: Array<{ slot: number; readonly bucket: B }>;

  constructor(
    private readonly bucketMs: number,
    private readonly count: number,
    create: () => B,
    private readonly reset: (bucket: B) => void,
    private readonly now: () => number,
  ) {
    this.ring = Array.from({ length: count }, () => ({ slot: -1, bucket: create() }));
  }

  /**
   * The bucket of the current moment, cleared first when it last held an older slot. `at`: the time
   * now, when the caller has read the clock already (once per batch of many additions).
   */
  current(at: number = this.now()): B {
    const slot = Math.floor(at / this.bucketMs);
    const entry = this.ring[slot % this.count]!;
    if (entry.slot !== slot) {
      entry.slot = slot;
      this.reset(entry.bucket);
    }
    return entry.bucket;
  }

  /** The buckets of the last `n` slots (the whole ring by default), oldest first in ring order. */
  live(n = this.count): B[] {
    const slot = Math.floor(this.now() / this.bucketMs);
    return this.ring.filter((e) => e.slot > slot - n && e.slot <= slot).map((e) => e.bucket);
  }
}

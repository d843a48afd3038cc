/**
 * Space-saving counts of at most `cap` keys: when full, a new key replaces the smallest count and
 * inherits it (an over-estimate), so the heaviest keys survive a flood of distinct ones.
 */
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

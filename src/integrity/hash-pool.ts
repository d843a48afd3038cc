import type { ScanFs } from './scan-fs.js';
import type { HashJob, HashResult } from './hash-protocol.js';

/** Files per request: enough to amortize the round trip, small enough that every helper stays busy to the end. */
const batchFiles = 32;
const batchBytes = 16 << 20;

/**
 * Hash every job on `workers` helper processes side by side (src/isolated/), results in the order
 * of `jobs`. Jobs go out in batches, largest files first as the caller sorted them; a helper that
 * finishes one takes the next, so a large file on one never leaves the others idle for long. A
 * helper stuck on a stalled file system is replaced and its batch sent again without what is stuck.
 * The helpers beyond the first end with the scan.
 */
export async function hashAll(
  fs: ScanFs,
  jobs: readonly HashJob[],
  sizes: readonly number[],
  workers: number,
  onBatch?: (files: number, bytes: number) => void,
): Promise<HashResult[]> {
  const batches: Array<{ start: number; jobs: HashJob[] }> = [];
  let current: HashJob[] = [];
  let start = 0;
  let bytes = 0;
  jobs.forEach((job, i) => {
    if (current.length > 0 && (current.length >= batchFiles || bytes + (sizes[i] ?? 0) > batchBytes)) {
      batches.push({ start, jobs: current });
      current = [];
      start = i;
      bytes = 0;
    }
    current.push(job);
    bytes += sizes[i] ?? 0;
  });
  if (current.length > 0) batches.push({ start, jobs: current });
  const results = new Array<HashResult>(jobs.length);
  let next = 0;
  const lane = async (index: number) => {
    for (let b = next++; b < batches.length; b = next++) {
      const batch = batches[b]!;
      const out = await fs.hash(batch.jobs, index);
      out.forEach((r, i) => (results[batch.start + i] = r));
      onBatch?.(
        out.length,
        out.reduce((sum, r) => sum + r.bytes, 0),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, batches.length)) }, (_, i) => lane(i)));
  return results;
}

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashJob, HashRequest, HashResponse, HashResult } from './hash-protocol.js';

/** Files per message: enough to amortize postMessage, small enough that both workers stay busy to the end. */
const batchFiles = 32;
const batchBytes = 16 << 20;

interface Pending {
  readonly request: HashRequest;
  readonly resolve: (results: readonly HashResult[]) => void;
  readonly reject: (error: Error) => void;
}

export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
}

/**
 * Worker threads that hash files, created for one scan and terminated after it, so an idle exporter
 * holds no threads and nothing keeps `check` or a test alive. Jobs go out in batches; a worker that
 * finishes one takes the next, so a large file on one thread never leaves the other idle for long.
 */
/** Batches queued per worker: the next one is already there when a worker finishes, even while the main thread serves a scrape. */
const inFlightPerWorker = 2;

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<Worker, Pending[]>();
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = spawnHashWorker();
      worker.on('message', (response: HashResponse) => this.finished(worker, response));
      worker.on('error', (error) => this.failed(worker, error));
      worker.on('exit', (code) => {
        if (!this.closed) this.failed(worker, new Error(`hash worker exited with code ${code}`));
      });
      this.workers.push(worker);
      this.inFlight.set(worker, []);
    }
  }

  /** Hash every job; results in the same order. `onBatch` reports progress as batches complete. */
  async hashAll(jobs: readonly HashJob[], sizes: readonly number[], onBatch?: (files: number, bytes: number) => void): Promise<HashResult[]> {
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
    await Promise.all(
      batches.map(async (batch) => {
        const out = await this.run(batch.jobs);
        out.forEach((r, i) => (results[batch.start + i] = r));
        onBatch?.(out.length, out.reduce((sum, r) => sum + r.bytes, 0));
      }),
    );
    return results;
  }

  private run(jobs: readonly HashJob[]): Promise<readonly HashResult[]> {
    if (this.closed) return Promise.reject(new PoolClosedError('hash pool closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, jobs }, resolve, reject });
      this.dispatch();
    });
  }

  /** Give each worker work until it has `inFlightPerWorker` batches, least loaded first. */
  private dispatch(): void {
    for (let depth = 0; depth < inFlightPerWorker; depth++) {
      for (const [worker, pending] of this.inFlight) {
        if (this.queue.length === 0) return;
        if (pending.length > depth) continue;
        const next = this.queue.shift()!;
        pending.push(next);
        worker.postMessage(next.request);
      }
    }
  }

  private finished(worker: Worker, response: HashResponse): void {
    const pending = this.inFlight.get(worker) ?? [];
    const index = pending.findIndex((p) => p.request.id === response.id);
    if (index >= 0) pending.splice(index, 1)[0]!.resolve(response.results);
    this.dispatch();
  }

  private failed(worker: Worker, error: Error): void {
    for (const pending of this.inFlight.get(worker)?.splice(0) ?? []) pending.reject(error);
    void this.close();
  }

  /** Terminate every worker; pending work is rejected with PoolClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new PoolClosedError('hash pool closed');
    for (const pending of [...[...this.inFlight.values()].flatMap((p) => p.splice(0)), ...this.queue.splice(0)]) pending.reject(error);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function spawnHashWorker(): Worker {
  if (import.meta.url.endsWith('.ts')) {
    // Running from sources (vitest, the benchmarks under tsx): Node 20 cannot load a .ts worker by
    // itself, so the worker boots tsx first. The shipped dist/ loads the compiled .js directly.
    const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
    const tsx = pathToFileURL(join(dirname(tsxPackage), 'dist/esm/api/index.mjs')).href;
    const source = new URL('./hash-worker.ts', import.meta.url).href;
    return new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(source)}, ${JSON.stringify(import.meta.url)}))`, { eval: true });
  }
  return new Worker(new URL('./hash-worker.js', import.meta.url));
}

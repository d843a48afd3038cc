import { performance } from 'node:perf_hooks';
import type { Finding } from '../findings/finding.js';
import type { Logger } from '../log/logger.js';
import type { Collector, CollectorContext } from './collector.js';

export interface CollectorOutcome {
  readonly name: string;
  readonly success: boolean;
  readonly durationSeconds: number;
  readonly findings: readonly Finding[];
  readonly error?: string;
}

export interface CollectionResult {
  readonly at: Date;
  readonly outcomes: readonly CollectorOutcome[];
  readonly findings: readonly Finding[];
}

/**
 * Run every collector once against one context. A collector that throws is logged with its
 * name and reported as failed; the others still run and their findings are served.
 */
export async function runCollectors(collectors: readonly Collector[], ctx: CollectorContext, log: Logger): Promise<CollectionResult> {
  const at = new Date();
  const outcomes: CollectorOutcome[] = [];
  // One after another: collectors do mostly synchronous /proc and file work, so running them
  // side by side would only blur each one's duration.
  for (const collector of collectors) outcomes.push(await runOne(collector, ctx, log));
  return { at, outcomes, findings: outcomes.flatMap((o) => o.findings) };
}

async function runOne(collector: Collector, ctx: CollectorContext, log: Logger): Promise<CollectorOutcome> {
  const started = performance.now();
  try {
    const run = await collector.collect(ctx);
    return { name: collector.name, success: true, durationSeconds: (performance.now() - started) / 1000, findings: run.findings };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error('collector failed', { collector: collector.name, err: message });
    return { name: collector.name, success: false, durationSeconds: (performance.now() - started) / 1000, findings: [], error: message };
  }
}

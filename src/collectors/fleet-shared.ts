import type { Gauge, Registry } from 'prom-client';
import type { CollectorEnv } from './collector.js';
import { HashPool } from '../integrity/hash-pool.js';
import type { HashJob } from '../integrity/hash-protocol.js';
import { fleetMetricSpecs as specs } from '../metrics/fleet.js';
import { registerGauge } from '../metrics/spec.js';
import { ImageHashes } from '../fleet/image-hashes.js';

/** What the processes and network collectors of one exporter share for their fleet facts. */
export interface FleetFactsShared {
  /** One cache for both: a flagged program that also holds an unexpected listener is hashed once. */
  readonly hashes: ImageHashes;
  readonly unhashed: Gauge<'metric' | 'reason'>;
}

const byRegistry = new WeakMap<Registry, FleetFactsShared>();

/** The shared part for this exporter (its registry), made by whichever collector asks first. */
export function fleetFactsShared(env: CollectorEnv): FleetFactsShared {
  let shared = byRegistry.get(env.registry);
  if (!shared) {
    shared = { hashes: new ImageHashes(hashInPool), unhashed: registerGauge(env.registry, specs.unhashed) };
    byRegistry.set(env.registry, shared);
  }
  return shared;
}

/**
 * One worker thread for the batch, ended after it: flagged images are few and hashed once, so an
 * exporter with nothing new to hash holds no thread (the integrity scan's pool does the same).
 */
async function hashInPool(jobs: readonly HashJob[], sizes: readonly number[]) {
  const pool = new HashPool(1);
  try {
    return await pool.hashAll(jobs, sizes);
  } finally {
    await pool.close();
  }
}

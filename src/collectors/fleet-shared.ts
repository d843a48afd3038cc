import { readlinkSync } from 'node:fs';
import type { Gauge, Registry } from 'prom-client';
import type { CollectorEnv } from './collector.js';
import { readOwnMounts } from '../procfs/mounts.js';
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
    // Hashed by a helper process (src/isolated/), which a stalled file system stops instead of the exporter.
    const fs = env.hostReads.isolated;
    const hasher = (jobs: readonly HashJob[]) => fs.hashImages(jobs.map((job) => ({ ...job, readsFrom: imagePath(job.file) ?? job.file })));
    shared = { hashes: new ImageHashes(hasher, undefined, imageMayStall), unhashed: registerGauge(env.registry, specs.unhashed) };
    byRegistry.set(env.registry, shared);
  }
  return shared;
}

/**
 * Whether the image a /proc/PID/exe link leads to lies on a file system that may stall (FUSE, NFS):
 * a stat of the link asks that file system, on the event loop. The link's text comes from the dentry
 * alone, so reading it never waits.
 */
function imageMayStall(procExe: string): boolean {
  const target = imagePath(procExe);
  if (target === undefined) return false;
  try {
    return readOwnMounts('/proc').mayStall(target);
  } catch {
    return false;
  }
}

function imagePath(procExe: string): string | undefined {
  try {
    return readlinkSync(procExe).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

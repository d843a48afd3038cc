import type { CollectorEnv } from './collector.js';
import type { CappedSeries } from '../metrics/capped-series.js';
import type { MetricSpec } from '../metrics/spec.js';
import type { Facts } from '../fleet/flagged-images.js';
import type { ImageHash } from '../fleet/image-hashes.js';
import { fleetFactsShared, type FleetFactsShared } from './fleet-shared.js';

/**
 * Output side of one fleet fact metric (hostguard_flagged_executable_info or
 * hostguard_flagged_listener_info): its series, capped by the policy's fleet_facts.max_series with
 * the excess in hostguard_finding_series_dropped, and the images still waiting for a hash. A
 * collector calls `publish` once per collection with the facts of its judgment.
 */
export class FleetFactSeries<L extends string> {
  private readonly series: CappedSeries<L>;
  private readonly shared: FleetFactsShared;
  private readonly procfs: string;
  private maxSeries = 0;

  constructor(
    env: CollectorEnv,
    private readonly spec: MetricSpec<L>,
  ) {
    this.shared = fleetFactsShared(env);
    this.procfs = env.paths.procfs;
    this.series = env.cappedSeries(spec, () => this.maxSeries);
    for (const reason of ['pending', 'unreadable']) this.shared.unhashed.set({ metric: spec.name, reason }, 0);
  }

  /** `facts` reads hashes through the lookup it is given; with max_series 0 it is not called. */
  publish(maxSeries: number, facts: (lookup: (pid: number) => ImageHash) => Facts<L>): void {
    this.maxSeries = maxSeries;
    const { hashes, unhashed } = this.shared;
    const found = maxSeries > 0 ? facts((pid) => hashes.lookup(`${this.procfs}/${pid}/exe`)) : { rows: [], pending: 0, unreadable: 0 };
    this.series.replace(found.rows);
    unhashed.set({ metric: this.spec.name, reason: 'pending' }, found.pending);
    unhashed.set({ metric: this.spec.name, reason: 'unreadable' }, found.unreadable);
    hashes.flush();
  }

  /** `serve` only: hash new images in the background from now on. */
  start(): void {
    this.shared.hashes.start();
  }

  stop(): Promise<void> {
    return this.shared.hashes.stop();
  }
}

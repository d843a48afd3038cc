import { z } from 'zod';

/**
 * `processes.fleet_facts` and `listeners.fleet_facts`: how many hostguard_flagged_*_info series
 * (one per flagged executable image, or per unexpected listener's program and port) this host may
 * expose for the monitoring side to count across hosts. Their label is a SHA-256, unbounded by
 * nature, so each host gets a budget; what exceeds it is counted in
 * hostguard_finding_series_dropped. 0 turns the facts off.
 */
export const fleetFactsSchema = z
  .object({
    max_series: z.number().int().min(0).max(1000).default(50),
  })
  .strict();

import type { Logger } from '../log/logger.js';
import { capabilityBits, capabilityNames, ownCapabilitySets, type CapabilitySets } from '../procfs/capabilities.js';
import { blindSpots } from './blind-spots.js';

const allKnown = Object.keys(capabilityBits).length;

function listed(mask: bigint): string {
  const names = capabilityNames(mask);
  if (names.length === allKnown) return 'all';
  return names.length > 0 ? names.join(',') : '(none)';
}

/** Say at start which capabilities are in effect and, for each missing one, what stays out of sight. */
export function reportPrivileges(log: Logger, uid = process.geteuid?.() ?? 0, sets: CapabilitySets = ownCapabilitySets()): void {
  const spots = blindSpots(uid, sets);
  log.info('capabilities in effect', { uid, effective: listed(sets.effective), ambient: listed(sets.ambient), blind_spots: spots.length });
  for (const spot of spots) {
    const cause = spot.droppedAtExec
      ? ' It is in the bounding set (granted, e.g. by --cap-add or capabilities.add) but not in the ambient set, so the kernel dropped it when the exporter started as uid ' +
        `${uid}: container runtimes do not set ambient capabilities. Run the container as uid 0 with every other capability dropped (docs/deployment.md).`
      : '';
    log.warn(`without ${spot.capability}: ${spot.hidden}.${cause}`, {
      capability: spot.capability,
      uid,
      metric: `hostguard_exporter_capability{capability="${spot.capability}"}`,
    });
  }
}

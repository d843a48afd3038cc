import { compileGlob, isGlob } from '../match/glob.js';
import type { FileState } from './file-state.js';
import type { Observation } from './scan.js';

/**
 * A rescan reads only what the watch saw change (its targets: paths, or globs to expand again) and
 * the result replaces that part of the last observation, and the running executables when it
 * listed them again. Pure: observations in, observation out.
 */
export function mergeRescan(base: Observation, targets: readonly string[], partial: Observation): Observation {
  const covered = coveredBy(targets);
  const files = new Map<string, FileState>();
  for (const [path, state] of base.files) if (!covered(path)) files.set(path, state);
  for (const [path, state] of partial.files) files.set(path, state);
  return {
    ...base,
    files,
    unreadableDirs: [...base.unreadableDirs.filter((dir) => !covered(dir)), ...partial.unreadableDirs],
    // The rescan read the package database last: its activity times are the newest. Its running
    // executables too: they are judged against that database, and the last scan's would still say
    // a process runs the file at its path after an upgrade replaced the file (isPreUpgradeImage).
    ...(partial.packages && { packages: partial.packages }),
    ...(partial.running && { running: partial.running }),
  };
}

/** Whether a path is one of the targets or below one. */
function coveredBy(targets: readonly string[]): (path: string) => boolean {
  const literal = new Set(targets.filter((t) => !isGlob(t)));
  const globs = targets.filter(isGlob).map(compileGlob);
  // Called for every path of the observation: walks up by slicing, without building arrays.
  return (path) => {
    for (let current = path; ;) {
      if (literal.has(current) || globs.some((matches) => matches(current))) return true;
      if (current === '/' || current === '') return false;
      const slash = current.lastIndexOf('/');
      current = slash <= 0 ? '/' : current.slice(0, slash);
    }
  };
}

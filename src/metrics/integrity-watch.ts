import { wholeScanReasons } from '../integrity/change-queue.js';
import { watchFailureReasons } from '../integrity/directory-watcher.js';
import { metricSpec } from './spec.js';

const list = (values: readonly string[]) => values.join(', ');

export const watchRescanReasons = ['changes', ...wholeScanReasons] as const;

/** Metrics of the integrity collector's real-time watch (inotify, in `serve`). */
export const integrityWatchMetricSpecs = {
  enabled: metricSpec({
    name: 'hostguard_integrity_watch_enabled',
    type: 'gauge',
    help: 'Whether watched paths are watched in real time with inotify (1: serve with integrity.realtime) or only scanned on the schedule (0: check, or realtime off).',
    labels: {},
  }),
  directories: metricSpec({
    name: 'hostguard_integrity_watch_directories',
    type: 'gauge',
    help: 'Directories with an inotify watch: the watched trees and the nearest existing directory of each watched path.',
    labels: {},
  }),
  unwatched: metricSpec({
    name: 'hostguard_integrity_watch_unwatched_directories',
    type: 'gauge',
    help: 'Directories that should be watched and could not be, by reason; changes in them are seen only by the scheduled scan.',
    labels: { reason: `${list(watchFailureReasons)}: limit means fs.inotify.max_user_watches (or max_user_instances) was reached` },
    notes: 'Each directory is named in hostguard_integrity_watch_unwatched_directory and in the log.',
  }),
  unwatchedDirectory: metricSpec({
    name: 'hostguard_integrity_watch_unwatched_directory',
    type: 'gauge',
    help: 'One series (1) per directory that could not be watched, by reason.',
    labels: { path: 'the host path (capped by --metrics.max-finding-series)', reason: list(watchFailureReasons) },
  }),
  events: metricSpec({
    name: 'hostguard_integrity_watch_events_total',
    type: 'counter',
    help: 'inotify events received for watched directories, relevant or not (a neighbour of a watched file counts too).',
    labels: {},
  }),
  changedPaths: metricSpec({
    name: 'hostguard_integrity_watch_changed_paths_total',
    type: 'counter',
    help: 'Paths (or globs) read again because the watch saw them change, after coalescing: a path written many times in a burst counts once per rescan.',
    labels: {},
  }),
  rescans: metricSpec({
    name: 'hostguard_integrity_watch_rescans_total',
    type: 'counter',
    help: 'Rescans started by the watch, by reason: the changed paths, or the whole watched set (a fast-path scan).',
    labels: {
      reason: `${list(watchRescanReasons)}: changes reads the changed paths; overflow: the inotify queue overflowed (events lost); burst: more changed paths than a batch holds; package_manager: dpkg's database settled after a run; accounts: the accounts or sshd's AuthorizedKeysFile changed the watched set; stall_ended: a file system the last scan skipped as stuck answers again`,
    },
  }),
  overflows: metricSpec({
    name: 'hostguard_integrity_watch_overflows_total',
    type: 'counter',
    help: 'Times the inotify queue may have overflowed (one read held at least half of fs.inotify.max_queued_events): each starts a scan at once.',
    labels: {},
  }),
  latency: metricSpec({
    name: 'hostguard_integrity_watch_latency_seconds',
    type: 'histogram',
    help: 'Seconds from the first event of a batch to the end of its rescan: after that the next scrape judges the change.',
    labels: {},
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  }),
} as const;

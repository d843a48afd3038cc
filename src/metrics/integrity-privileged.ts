import { privilegeAttributes } from '../integrity/judge-privileged.js';
import { capabilityStates } from '../integrity/privileged-search.js';
import { metricSpec } from './spec.js';

/** Metrics of the integrity collector's search for setuid, setgid and capability files on the local file systems. */
export const integrityPrivilegedMetricSpecs = {
  files: metricSpec({
    name: 'hostguard_integrity_privileged_files',
    type: 'gauge',
    help: 'Files found by the last privileged-file search, by privilege (a setuid file with capabilities counts under both).',
    labels: { privilege: privilegeAttributes.join(', ') },
  }),
  lastEnd: metricSpec({
    name: 'hostguard_integrity_privileged_search_last_end_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last privileged-file search finished; 0 until one has (or with integrity.privileged_files.enabled false).',
    labels: {},
    notes: 'HostGuardPrivilegedSearchStale fires when it is older than twice the next metric.',
  }),
  interval: metricSpec({
    name: 'hostguard_integrity_privileged_search_interval_seconds',
    type: 'gauge',
    help: 'Seconds between two scheduled privileged-file searches (integrity.privileged_files.schedule); 0 when the search is off.',
    labels: {},
  }),
  duration: metricSpec({
    name: 'hostguard_integrity_privileged_search_duration_seconds',
    type: 'gauge',
    help: 'Duration of the last privileged-file search (walk, capabilities and hashes), bounded by integrity.privileged_files.max_entries_per_second.',
    labels: {},
  }),
  entries: metricSpec({
    name: 'hostguard_integrity_privileged_search_entries',
    type: 'gauge',
    help: 'Directory entries the last privileged-file search examined on the local file systems.',
    labels: {},
  }),
  unreadable: metricSpec({
    name: 'hostguard_integrity_privileged_search_unreadable_directories',
    type: 'gauge',
    help: 'Directories the last privileged-file search could not list; what is below them was not searched.',
    labels: {},
  }),
  capabilities: metricSpec({
    name: 'hostguard_integrity_privileged_search_capabilities',
    type: 'gauge',
    help: 'Whether the last search read file capabilities (1 for the state it was in).',
    labels: { state: `${capabilityStates.join(', ')}: unavailable means no getcap (Debian package libcap2-bin) where the exporter runs` },
  }),
} as const;

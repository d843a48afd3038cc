import { fileTypes } from '../integrity/file-state.js';
import { mismatchAttributes } from '../integrity/judge.js';
import { integrityKinds } from '../integrity/kinds.js';
import { acceptReasons } from '../integrity/package-baseline.js';
import { scanProblems } from '../integrity/scan.js';
import { metricSpec } from './spec.js';

const list = (values: readonly string[]) => values.join(', ');

export const runningResults = ['verified', 'mismatch', 'outdated', 'unverifiable', 'unreadable', 'other_root'] as const;
export const packageActivitySources = ['status', 'log'] as const;

/** Metrics of the integrity collector: watched files, scans, running executables, the package database. */
export const integrityMetricSpecs = {
  watchedFiles: metricSpec({
    name: 'hostguard_integrity_watched_files',
    type: 'gauge',
    help: 'Paths in the watched set at the last scan, by file type.',
    labels: { type: list(fileTypes) },
  }),
  mismatch: metricSpec({
    name: 'hostguard_integrity_mismatch',
    type: 'gauge',
    help: 'One series per path that does not match the baseline or the package database (1), by finding kind and attribute.',
    labels: {
      path: 'the host path (capped by --metrics.max-finding-series)',
      kind: list(Object.keys(integrityKinds)),
      attribute: `${list(mismatchAttributes)}: content for content, running and package mismatches, presence for added and removed`,
    },
    notes: 'Totals by kind, never capped, are hostguard_findings{collector="integrity"}.',
  }),
  lastScanStart: metricSpec({
    name: 'hostguard_integrity_last_scan_start_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last finished scan started; 0 until the first scan finishes.',
    labels: {},
  }),
  scheduleInterval: metricSpec({
    name: 'hostguard_integrity_schedule_interval_seconds',
    type: 'gauge',
    help: 'Seconds between two scheduled scans (integrity.schedule), so rules can tell a stale scan from a slow schedule.',
    labels: {},
    notes: 'HostGuardIntegrityScanStale fires when the last scan ended more than twice this long ago.',
  }),
  lastScanEnd: metricSpec({
    name: 'hostguard_integrity_last_scan_end_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last scan finished; 0 until the first scan finishes.',
    labels: {},
    notes: 'Alert when `time() - hostguard_integrity_last_scan_end_timestamp_seconds` exceeds the schedule by a margin: scans stopped.',
  }),
  lastScanDuration: metricSpec({
    name: 'hostguard_integrity_last_scan_duration_seconds',
    type: 'gauge',
    help: 'Duration of the last finished scan.',
    labels: {},
  }),
  lastScanHashedFiles: metricSpec({
    name: 'hostguard_integrity_last_scan_hashed_files',
    type: 'gauge',
    help: 'Files (and running executable images) read and hashed by the last scan; the rest matched the fast path.',
    labels: {},
  }),
  lastScanHashedBytes: metricSpec({
    name: 'hostguard_integrity_last_scan_hashed_bytes',
    type: 'gauge',
    help: 'Bytes read and hashed by the last scan.',
    labels: {},
  }),
  lastFullRehash: metricSpec({
    name: 'hostguard_integrity_last_full_rehash_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last full rehash (every file read, the fast path ignored) finished; 0 until one has.',
    labels: {},
  }),
  scans: metricSpec({
    name: 'hostguard_integrity_scans_total',
    type: 'counter',
    help: 'Scans finished, by mode: fast (unchanged size, inode, mtime and ctime skip the read) or full.',
    labels: { mode: 'fast, full' },
  }),
  hashedBytes: metricSpec({
    name: 'hostguard_integrity_hashed_bytes_total',
    type: 'counter',
    help: 'Bytes read and hashed by all scans, learning included.',
    labels: {},
  }),
  scanProblems: metricSpec({
    name: 'hostguard_integrity_scan_problems',
    type: 'gauge',
    help: 'Paths the last scan could not fully observe, by problem; details in the log.',
    labels: {
      problem: `${list(scanProblems)}: vanished while scanned, changed while read (twice), unreadable (denied, I/O error, or a directory that could not be listed), symbolic link loop, over_limit (1 when the scan stopped listing at integrity.max_paths)`,
    },
  }),
  runningExecutables: metricSpec({
    name: 'hostguard_integrity_running_executables',
    type: 'gauge',
    help: 'Distinct executable images of running processes at the last scan, by result of the comparison with the baseline or the package database.',
    labels: {
      result: `${list(runningResults)}: outdated is an image a package change replaced on disk, proven to be the file it replaced (a restart is due, not a finding); unverifiable means neither the baseline nor a package knows the path; other_root counts processes under a root that is not the host's (containers), whose paths name other files; a process with only a mount namespace of its own (a sandboxed systemd unit) runs host files and is compared`,
    },
  }),
  baselineInvalidEntries: metricSpec({
    name: 'hostguard_integrity_baseline_invalid_entries',
    type: 'gauge',
    help: "Entries of the verified baseline's integrity section that do not have the expected shape and are ignored; details in the log.",
    labels: {},
  }),
  packageDatabasePresent: metricSpec({
    name: 'hostguard_package_database_present',
    type: 'gauge',
    help: 'Whether the package database was found under --path.rootfs (1) or not (0).',
    labels: { manager: 'dpkg' },
  }),
  packageVerifiedFiles: metricSpec({
    name: 'hostguard_package_verified_files',
    type: 'gauge',
    help: 'Watched files the package database has a checksum for, that matched it at the last scan.',
    labels: { manager: 'dpkg' },
  }),
  packageMismatchedFiles: metricSpec({
    name: 'hostguard_package_mismatched_files',
    type: 'gauge',
    help: "Watched files that do not match the package database's checksum at the last scan (what debsums reports).",
    labels: { manager: 'dpkg' },
  }),
  packageLastActivity: metricSpec({
    name: 'hostguard_package_manager_last_activity_timestamp_seconds',
    type: 'gauge',
    help: "Unix time the package manager last ran: the status database's mtime and the last line of its log.",
    labels: { manager: 'dpkg', source: 'status (mtime of /var/lib/dpkg/status), log (last line of /var/log/dpkg.log)' },
    notes:
      'For dashboards; no rule lowers a finding by it: the package database explains changes file by file (hostguard_baseline_auto_accepted_total).',
  }),
  packageOperation: metricSpec({
    name: 'hostguard_package_operation_in_progress',
    type: 'gauge',
    help: "Whether a package operation ran during the last scan (1): a process held dpkg's lock, or its database changed while the scan ran. Nothing is accepted into the baseline from such a scan.",
    labels: { manager: 'dpkg' },
  }),
  heldFindings: metricSpec({
    name: 'hostguard_integrity_held_findings',
    type: 'gauge',
    help: "Integrity findings held back because a package operation is running, for at most 15 minutes from the start of the process holding dpkg's lock; they are reported, or explained and accepted, once it ends.",
    labels: {},
  }),
  writerWrites: metricSpec({
    name: 'hostguard_integrity_writer_records_total',
    type: 'counter',
    help: 'File writes read from the audit events of the watch rules (key hostguard_fim): each names the process that changed a watched path (who-data).',
    labels: {},
    notes:
      'Stays 0 without processes.exec_events (the audit log the exporter follows) or without the rules of deploy/audit/hostguard-fim.rules.',
  }),
  writerEvictions: metricSpec({
    name: 'hostguard_integrity_writer_evictions_total',
    type: 'counter',
    help: 'Paths whose last writer was forgotten because more paths were written than the exporter keeps (10000): a change to such a path then says "writer unknown".',
    labels: {},
  }),
  autoAccepted: metricSpec({
    name: 'hostguard_baseline_auto_accepted_total',
    type: 'counter',
    help: 'Watched paths whose change the package database explained and that were accepted into the baseline by themselves, by reason.',
    labels: {
      reason: `${list(acceptReasons)}: the change to the owning package since the baseline (package_change: same version, other database entries)`,
    },
    notes: "Each acceptance is logged and kept in the baseline's `history` section (`hostguard-exporter baseline show`).",
  }),
} as const;

import { metricSpec } from './spec.js';

/** Metrics of the exporter itself and its framework: build, collectors, policy, baseline. */
export const exporterMetricSpecs = {
  buildInfo: metricSpec({
    name: 'hostguard_build_info',
    type: 'gauge',
    help: 'A metric with a constant 1 value labeled by the version, revision and Node.js version of hostguard-exporter.',
    labels: {
      version: 'package version',
      revision: 'git commit the package was built from, or "unknown"',
      nodejs_version: 'process.version',
    },
  }),
  collectorDuration: metricSpec({
    name: 'hostguard_scrape_collector_duration_seconds',
    type: 'gauge',
    help: 'Duration of a collector in the last collection.',
    labels: { collector: 'enabled collector names' },
    notes:
      'For a collector still busy with a run that passed --collector.timeout (or, after a first start, its learning that passed --baseline.timeout): how long that run has taken so far.',
  }),
  collectorSuccess: metricSpec({
    name: 'hostguard_scrape_collector_success',
    type: 'gauge',
    help: 'Whether a collector succeeded in the last collection (1) or failed (0).',
    labels: { collector: 'enabled collector names' },
  }),
  collections: metricSpec({
    name: 'hostguard_collections_total',
    type: 'counter',
    help: 'Collections run. Scrapes that arrive while one runs share it, so under concurrent scrapers this grows slower than the scrape count.',
    labels: {},
  }),
  collectorErrors: metricSpec({
    name: 'hostguard_collector_errors_total',
    type: 'counter',
    help: 'Collections in which a collector failed, by reason; details are in the log.',
    labels: {
      collector: 'enabled collector names',
      reason:
        '"error" (it threw) or "timeout" (no result within --collector.timeout, or still busy with a run that had none, a first start\'s learning past --baseline.timeout included)',
    },
  }),
  findings: metricSpec({
    name: 'hostguard_findings',
    type: 'gauge',
    help: 'Current findings by collector and kind; 0 for every kind a collector can report and did not.',
    labels: { collector: 'enabled collector names', kind: 'the finding kinds each collector declares (see the collector sections)' },
  }),
  findingSeriesDropped: metricSpec({
    name: 'hostguard_finding_series_dropped',
    type: 'gauge',
    help: 'Per-finding series left out of the last collection by --metrics.max-finding-series.',
    labels: { metric: 'names of the per-finding metrics' },
    notes:
      'A gauge, not a counter: it says how many subjects are missing from the exposition right now. The totals in hostguard_findings are never capped.',
  }),
  configReloadSuccessful: metricSpec({
    name: 'hostguard_config_last_reload_successful',
    type: 'gauge',
    help: 'Whether the last policy load or reload succeeded (1) or failed and the previous policy is still in use (0).',
    labels: {},
  }),
  configReloadTimestamp: metricSpec({
    name: 'hostguard_config_last_reload_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last successful policy load or reload.',
    labels: {},
  }),
  configInfo: metricSpec({
    name: 'hostguard_config_info',
    type: 'gauge',
    help: 'The policy in use: 1, labeled by its source and the first 12 hex digits of its SHA-256.',
    labels: { source: '"embedded" or "file"', sha256: '12 hex digits; changes when the policy changes' },
  }),
  baselinePresent: metricSpec({
    name: 'hostguard_baseline_present',
    type: 'gauge',
    help: 'Whether a baseline file exists and could be read (1) or not (0).',
    labels: {},
  }),
  baselineVerified: metricSpec({
    name: 'hostguard_baseline_verified',
    type: 'gauge',
    help: 'Whether the baseline file matches its own SHA-256 and, when a key file is given, its HMAC (1); 0 means corrupt or tampered.',
    labels: {},
    notes: 'While 0 the collectors judge by the policy alone: nothing the baseline would have allowed is trusted.',
  }),
  baselineSigned: metricSpec({
    name: 'hostguard_baseline_signed',
    type: 'gauge',
    help: 'Whether the baseline carries an HMAC that was checked with --baseline.hmac-key-file (1) or only a SHA-256 (0).',
    labels: {},
  }),
  baselineTrustOnFirstUse: metricSpec({
    name: 'hostguard_baseline_trust_on_first_use',
    type: 'gauge',
    help: 'Whether the baseline was learned automatically at first start (1) rather than accepted by an operator with `baseline init` or `update` (0).',
    labels: {},
  }),
  baselineAge: metricSpec({
    name: 'hostguard_baseline_age_seconds',
    type: 'gauge',
    help: 'Seconds since the baseline was last written.',
    labels: {},
  }),
  baselineLastChange: metricSpec({
    name: 'hostguard_baseline_last_change_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the running exporter last saw the baseline file change (load, reload or update).',
    labels: {},
  }),
  runningAsRoot: metricSpec({
    name: 'hostguard_exporter_running_as_root',
    type: 'gauge',
    help: 'Whether the exporter runs with effective uid 0 (1) or as an unprivileged user (0).',
    labels: {},
  }),
  capability: metricSpec({
    name: 'hostguard_exporter_capability',
    type: 'gauge',
    help: 'Whether a capability that decides what the exporter can see is in its effective set (1) or not (0).',
    labels: { capability: 'cap_dac_override, cap_dac_read_search, cap_net_bind_service, cap_sys_ptrace' },
    notes:
      "Without cap_sys_ptrace (as root too) the executables, sockets and roots of other users' processes, and of root's processes holding capabilities the exporter lacks, are hidden; without cap_dac_read_search (or cap_dac_override) some watched files and logs are unreadable; without cap_net_bind_service ports below 1024 cannot be probed for hidden listeners. The log says at start what each missing one hides, and each collector counts what it could not see. See docs/deployment.md.",
  }),
  capabilityBounding: metricSpec({
    name: 'hostguard_exporter_capability_bounding',
    type: 'gauge',
    help: 'Whether a capability that decides what the exporter can see is in its bounding set (1), i.e. was granted to it, in effect or not.',
    labels: { capability: 'as hostguard_exporter_capability' },
    notes:
      '1 here and 0 in hostguard_exporter_capability for a non-root exporter: the runtime granted the capability (--cap-add, capabilities.add) but not in the ambient set, so the kernel dropped it when the exporter started. Run the container as uid 0 with every other capability dropped (docs/deployment.md).',
  }),
  stateWriteFailing: metricSpec({
    name: 'hostguard_state_write_failing',
    type: 'gauge',
    help: 'Whether the last write of a state file failed (1), e.g. a full or read-only --state.dir; the exporter keeps running and retries.',
    labels: {
      file: 'file names the exporter writes: baseline.json, log position files (one per auth source), integrity-full-rehash.json, serving-exporter.json, the --textfile.path file',
    },
  }),
  stateWriteFailures: metricSpec({
    name: 'hostguard_state_write_failures_total',
    type: 'counter',
    help: 'Failed writes of state files since start, by file; details (ENOSPC, EROFS) in the log.',
    labels: { file: 'as hostguard_state_write_failing' },
  }),
  stuckReads: metricSpec({
    name: 'hostguard_stuck_reads',
    type: 'gauge',
    help: 'Reads of the host that did not return within the stall deadline and are still waiting in the kernel, by kind; their targets are skipped until they return.',
    labels: {
      kind: '"process_memory" (a /proc/PID file that takes the process\'s memory-map lock, such as cmdline: a thread of that process waits on a stalled file system) or "file_system" (a stat, listing or read on a mount, or a process\'s root, whose file system does not answer)',
    },
    notes:
      'The deadline is a quarter of --collector.timeout (0.25–5 s). The log names each stuck PID or mount when it is declared and when its read returns. A stuck process is also a stalled_process finding of the processes collector; a stuck mount under a watched path counts in hostguard_integrity_scan_problems{problem="stuck"}.',
  }),
  stuckReadsTotal: metricSpec({
    name: 'hostguard_stuck_reads_total',
    type: 'counter',
    help: 'Reads declared stuck since start, by kind (see hostguard_stuck_reads).',
    labels: { kind: 'as hostguard_stuck_reads' },
  }),
  baselineEntries: metricSpec({
    name: 'hostguard_baseline_entries',
    type: 'gauge',
    help: 'Entries in the baseline by section.',
    labels: { section: 'collector names that keep a baseline' },
  }),
} as const;

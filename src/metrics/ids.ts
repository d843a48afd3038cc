import { idsTools } from '../config/sections/ids.js';
import { alertCategories, alertCategoryMeanings, alertSeverities } from '../ids/classes.js';
import { unparsedReasons } from '../ids/events.js';
import { metricSpec } from './spec.js';

const source = 'the output file as the policy names it (ids.sources[].path)';
const tool = idsTools.join(', ');

/** Metrics of the ids collector: alerts read from Suricata, Snort 3 and Wazuh/OSSEC outputs, and each output's health. */
export const idsMetricSpecs = {
  alerts: metricSpec({
    name: 'hostguard_ids_alerts_total',
    type: 'counter',
    help: 'IDS alerts read, by source, tool, severity class and category class.',
    labels: {
      source,
      tool,
      alert_severity: `${alertSeverities.join(', ')} (Suricata severity / Snort priority 1 high, 2 medium, 3+ low; Wazuh level 15 critical, 12-14 high, 7-11 medium, 0-6 low)`,
      category: `${alertCategories.join(', ')} (from the classtype or the Wazuh rule groups)`,
    },
    notes: `Every (severity, category) series of a configured source exists from the start at 0, so \`increase()\` sees the first alert after a restart. Never the signature, an address or a port. Categories: ${alertCategories.map((c) => `${c}: ${alertCategoryMeanings[c]}`).join('; ')}.`,
  }),
  lastAlert: metricSpec({
    name: 'hostguard_ids_last_alert_timestamp_seconds',
    type: 'gauge',
    help: "Time of the newest alert from the source (the event's own time; the time it was read when the event has none); 0 before the first.",
    labels: { source, tool },
    notes: 'Kept in --state.dir across restarts.',
  }),
  lastWrite: metricSpec({
    name: 'hostguard_ids_source_last_write_timestamp_seconds',
    type: 'gauge',
    help: 'Modification time of the output file at the source path: when the IDS last wrote anything; 0 when it cannot be read.',
    labels: { source, tool },
    notes:
      "The file's own time survives exporter restarts, and stops moving when an IDS keeps writing to a file rotated away. HostGuardIDSSourceSilent compares it with the next metric.",
  }),
  maxSilence: metricSpec({
    name: 'hostguard_ids_source_max_silence_seconds',
    type: 'gauge',
    help: 'How long the source may stay unwritten before it counts as dead (policy ids.sources[].max_silence); 0: no expectation.',
    labels: { source, tool },
  }),
  healthy: metricSpec({
    name: 'hostguard_ids_source_healthy',
    type: 'gauge',
    help: 'Whether the output file can be read (1) or not (0: missing, unreadable).',
    labels: { source, tool },
  }),
  linesRead: metricSpec({
    name: 'hostguard_ids_lines_read_total',
    type: 'counter',
    help: 'Lines read from each IDS output file, alerts and other events alike.',
    labels: { source },
  }),
  linesUnparsed: metricSpec({
    name: 'hostguard_ids_lines_unparsed_total',
    type: 'counter',
    help: "Lines that could not be used, by reason: invalid_json (not JSON, cut, or garbage), not_an_event (JSON without the tool's event fields).",
    labels: { source, reason: unparsedReasons.join(', ') },
  }),
  fragments: metricSpec({
    name: 'hostguard_ids_event_fragments_total',
    type: 'counter',
    help: 'Unfinished events a writer left glued to the start of the next one (a crash mid-line): the fragment is dropped, the event after it counted.',
    labels: { source },
  }),
  linesTruncated: metricSpec({
    name: 'hostguard_ids_lines_truncated_total',
    type: 'counter',
    help: 'Events longer than ids.max_event_bytes (1 MiB by default): cut, not parsed (also counted as invalid_json), and skipped to their end.',
    labels: { source },
  }),
  lag: metricSpec({
    name: 'hostguard_ids_source_lag_bytes',
    type: 'gauge',
    help: 'Bytes written to the output file (and rotated files still being read) but not yet read.',
    labels: { source },
  }),
  gaps: metricSpec({
    name: 'hostguard_ids_source_gaps_total',
    type: 'counter',
    help: 'Times a saved position could not be found again (the rotated file was compressed or deleted while the exporter was stopped), so alerts may have been missed.',
    labels: { source },
  }),
  topSignatures: metricSpec({
    name: 'hostguard_ids_top_signature_alerts',
    type: 'gauge',
    help: 'Alerts in the last 15 minutes of each of the most frequent signatures (opt-in: policy ids.top_signatures).',
    labels: {
      tool,
      signature_id: 'gid:sid (Suricata, Snort) or the rule id (Wazuh)',
      signature: 'the signature text or rule description, cut at 256 characters; at most ids.top_signatures series (0, none, by default)',
    },
    notes: 'Counts are estimates when more signatures fire than are kept per 30-second bucket.',
  }),
} as const;

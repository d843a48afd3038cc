import { lynisRunResults } from '../audit/lynis-runner.js';
import { reportReadResults } from '../audit/lynis-report.js';
import { metricSpec } from './spec.js';

const report = 'the report path as the policy names it (audit.lynis_report)';

/** Metrics of the audit collector: the newest complete Lynis report, judged against the baseline, and Lynis runs. */
export const auditMetricSpecs = {
  hardeningIndex: metricSpec({
    name: 'hostguard_audit_hardening_index',
    type: 'gauge',
    help: 'Lynis hardening index (0-100) of the newest complete report.',
    labels: { report },
    notes: 'Absent until a complete report has been read.',
  }),
  baselineHardeningIndex: metricSpec({
    name: 'hostguard_audit_baseline_hardening_index',
    type: 'gauge',
    help: 'Lynis hardening index recorded in the baseline (`baseline init`/`update`); HostGuardAuditHardeningIndexDropped compares the current one with it.',
    labels: { report },
    notes: 'Absent when the baseline holds no complete report (none had been read when it was learned).',
  }),
  warnings: metricSpec({
    name: 'hostguard_audit_warnings',
    type: 'gauge',
    help: 'Warnings in the newest complete Lynis report.',
    labels: { report },
  }),
  suggestions: metricSpec({
    name: 'hostguard_audit_suggestions',
    type: 'gauge',
    help: 'Suggestions in the newest complete Lynis report.',
    labels: { report },
  }),
  newWarning: metricSpec({
    name: 'hostguard_audit_new_warning',
    type: 'gauge',
    help: 'Lynis warnings the baseline does not hold and audit.accept_warnings does not list, by test ID (value: how many times the report has it).',
    labels: { test: "the Lynis test ID (AUTH-9262): from Lynis' fixed catalogue of a few hundred tests" },
  }),
  reportTimestamp: metricSpec({
    name: 'hostguard_audit_report_timestamp_seconds',
    type: 'gauge',
    help: 'When the newest complete Lynis report was finished (report_datetime_end); 0 when none could be read.',
    labels: { report },
    notes:
      '`time() - hostguard_audit_report_timestamp_seconds` is the report age; HostGuardAuditReportStale compares it with the next metric.',
  }),
  maxReportAge: metricSpec({
    name: 'hostguard_audit_report_max_age_seconds',
    type: 'gauge',
    help: 'The oldest a report may be before it is stale (policy audit.max_report_age).',
    labels: { report },
  }),
  reportReads: metricSpec({
    name: 'hostguard_audit_report_reads_total',
    type: 'counter',
    help: 'Versions of the report file read, by result; the file is read again only when it changed.',
    labels: { result: `${reportReadResults.join(', ')} (incomplete: being written; the previous complete report stays in use)` },
  }),
  lynisRuns: metricSpec({
    name: 'hostguard_audit_lynis_runs_total',
    type: 'counter',
    help: 'Lynis runs started by the exporter (policy audit.run), by result.',
    labels: {
      result: `${lynisRunResults.join(', ')} (busy: a Lynis not started by the exporter held its PID file and was running, so the run was skipped)`,
    },
  }),
  lynisDuration: metricSpec({
    name: 'hostguard_audit_lynis_last_run_duration_seconds',
    type: 'gauge',
    help: 'How long the last Lynis run started by the exporter took; 0 before the first, absent without an audit section.',
    labels: {},
  }),
  lynisStalePidFiles: metricSpec({
    name: 'hostguard_audit_lynis_stale_pidfile_removed_total',
    type: 'counter',
    help: 'Lynis PID files the exporter removed because the run they named was gone (killed before it could remove its own file: no such process, a zombie, a PID reused by another program).',
    labels: {},
    notes:
      'Lynis in cron mode quits while any PID file exists, so a file left by a killed run stops every later audit; before each run the exporter removes such a file (logged with its PID) and runs. A file naming a live Lynis is left alone, and the run is counted as busy.',
  }),
} as const;

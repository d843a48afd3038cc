import { tamperKinds } from '../auth/log-tampering.js';
import { authPatterns, authServices, failureReasons, successMethods } from '../auth/patterns.js';
import { userClasses } from '../rootfs/users.js';
import { metricSpec } from './spec.js';

const services = authServices.join(', ');
const userClass = `${userClasses.join(', ')} (invalid: no such account, or the line names no user); never the user name`;
const source = 'the source: a log file path as configured or detected, or journald[:path]';

/** Metrics of the auth collector: attempts from auth logs and the journal, and the health of each source. */
export const authMetricSpecs = {
  failures: metricSpec({
    name: 'hostguard_auth_failures_total',
    type: 'counter',
    help: 'Failed authentication attempts read from the auth logs, by service, reason and class of the user tried.',
    labels: { service: services, reason: failureReasons.join(', '), user_class: userClass },
    notes:
      'Counts attempts, not lines: a failed password that sshd and PAM both log is one; lines that only close or summarise attempts are not added (they are in hostguard_auth_messages_total). `sum(rate(...[5m]))` is attempts per second.',
  }),
  successes: metricSpec({
    name: 'hostguard_auth_successes_total',
    type: 'counter',
    help: 'Successful logins read from the auth logs, by service, method and class of the user.',
    labels: { service: services, method: successMethods.join(', '), user_class: userClass },
  }),
  messages: metricSpec({
    name: 'hostguard_auth_messages_total',
    type: 'counter',
    help: 'Auth log messages matched, by service and pattern; includes lines that only repeat, close or summarise an attempt.',
    labels: { service: services, pattern: authPatterns.map((p) => p.name).join(', ') },
  }),
  guessedLogins: metricSpec({
    name: 'hostguard_auth_success_after_failures_total',
    type: 'counter',
    help: 'Logins that came after repeated failures from the same address or for the same user (policy auth.success_after_failures), by service.',
    labels: { service: services },
    notes:
      'The finding success_after_failures names the user and address (redacted unless --findings.show-details). Every service starts at 0. HostGuardAuthSuccessAfterFailures fires on any increase.',
  }),
  tampering: metricSpec({
    name: 'hostguard_auth_log_tampering_total',
    type: 'counter',
    help: 'Auth logs truncated, deleted or replaced outside a rotation, and journal files removed that journald would not remove, by source and kind.',
    labels: { source, kind: tamperKinds.join(', ') },
    notes:
      'A file source starts with every kind but journal_removed at 0, a journald source with journal_removed. The finding log_tampered says which file and how. HostGuardAuthLogTampered fires on any increase.',
  }),
  failingSources: metricSpec({
    name: 'hostguard_auth_failing_sources',
    type: 'gauge',
    help: 'Distinct source addresses of failed attempts in the last window (a HyperLogLog estimate, about 3% error).',
    labels: { window: '5m, 15m' },
  }),
  topSourceFailures: metricSpec({
    name: 'hostguard_auth_top_source_failures',
    type: 'gauge',
    help: 'Failed attempts in the last 15 minutes from each of the top source addresses (opt-in: policy auth.top_sources).',
    labels: { address: 'a source address; at most auth.top_sources series (0, none, by default)' },
    notes: 'Counts are estimates when more addresses fail than are kept per 30-second bucket.',
  }),
  sshRootLoginAllowed: metricSpec({
    name: 'hostguard_auth_ssh_root_login_allowed',
    type: 'gauge',
    help: 'Whether the policy allows root to log in over SSH on this host (auth.ssh_root_login: allow = 1, deny = 0).',
    labels: {},
    notes: 'The policy says what is allowed; the alert HostGuardRootLoginOverSSH compares it with hostguard_auth_successes_total.',
  }),
  linesRead: metricSpec({
    name: 'hostguard_auth_lines_read_total',
    type: 'counter',
    help: 'Lines read from each auth source.',
    labels: { source },
  }),
  linesUnparsed: metricSpec({
    name: 'hostguard_auth_lines_unparsed_total',
    type: 'counter',
    help: 'Lines that are not syslog lines (file sources) or not journal JSON (journald), by source and reason.',
    labels: { source, reason: 'not_syslog, not_json' },
  }),
  linesTruncated: metricSpec({
    name: 'hostguard_auth_lines_truncated_total',
    type: 'counter',
    help: 'Lines longer than the limit (16 KiB in files, 64 KiB from journalctl), classified by their beginning and skipped to their end.',
    labels: { source },
  }),
  position: metricSpec({
    name: 'hostguard_auth_source_position_bytes',
    type: 'gauge',
    help: 'Offset of the next unread line in the file at the source path.',
    labels: { source: 'file sources' },
  }),
  lag: metricSpec({
    name: 'hostguard_auth_source_lag_bytes',
    type: 'gauge',
    help: 'Bytes written to the source file (and rotated files still being read) but not yet read.',
    labels: { source: 'file sources' },
  }),
  lastLine: metricSpec({
    name: 'hostguard_auth_source_last_line_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last line was read from the source; 0 before the first.',
    labels: { source },
  }),
  rotations: metricSpec({
    name: 'hostguard_auth_source_rotations_total',
    type: 'counter',
    help: 'Rotations of a source file seen, by kind.',
    labels: { source: 'file sources', kind: 'rename (rename and create), truncate (copytruncate or truncation)' },
  }),
  gaps: metricSpec({
    name: 'hostguard_auth_source_gaps_total',
    type: 'counter',
    help: 'Times a saved position could not be found again (rotated file compressed or deleted, cursor refused), so lines may have been missed.',
    labels: { source },
  }),
  readErrors: metricSpec({
    name: 'hostguard_auth_source_read_errors_total',
    type: 'counter',
    help: 'Errors reading each source: failed reads of a file; for journald, failures to run journalctl and the error lines it printed.',
    labels: { source },
    notes:
      'journalctl prints an error for each journal file it cannot open or finds corrupt, and for a refused cursor; the log has the text. Lines that are not journal JSON are in hostguard_auth_lines_unparsed_total.',
  }),
  restarts: metricSpec({
    name: 'hostguard_auth_source_restarts_total',
    type: 'counter',
    help: 'Times journalctl exited (or could not be run) and was started again, after 1 s, doubling up to 30 s while it reads nothing.',
    labels: { source: 'journald sources' },
    notes:
      'Restarts to apply new identifiers after a reload are not counted. HostGuardAuthSourceUnhealthy fires on a journalctl that keeps exiting.',
  }),
  healthy: metricSpec({
    name: 'hostguard_auth_source_healthy',
    type: 'gauge',
    help: 'Whether the source can be read (1) or not (0: missing, unreadable, journalctl failing).',
    labels: { source, type: 'file, journald' },
    notes: 'No series at all means no source was configured or detected (no auth.log, no secure, no journal).',
  }),
} as const;

import { declareKinds } from '../findings/kinds.js';

export const authKinds = declareKinds('auth', {
  source_unavailable: {
    severity: 'warning',
    description: 'an auth log source cannot be read (file missing or unreadable, journalctl failing): failed logins there go uncounted',
    alerts: ['HostGuardAuthSourceUnhealthy'],
  },
  recent_failures: {
    severity: 'info',
    description:
      'authentication failures of one service in the last 5 minutes; how many is too many is decided by the alert rules on hostguard_auth_failures_total',
    alerts: ['HostGuardAuthBruteForce', 'HostGuardAuthDistributedGuessing', 'HostGuardSudoFailures', 'HostGuardAuthFailuresAnomalous'],
  },
  success_after_failures: {
    severity: 'critical',
    description:
      "a login from an address, or for a user, that failed at least auth.success_after_failures.failures times within the window before it (by the lines' own timestamps): brute force that worked. Listed for auth.findings_for; user and address redacted unless --findings.show-details",
    alerts: ['HostGuardAuthSuccessAfterFailures'],
  },
  log_tampered: {
    severity: 'critical',
    description:
      'an auth log was truncated, emptied, deleted or replaced outside a rotation (no rotated or compressed copy of its content beside it, or a link to /dev/null at its path), or journal files were removed that journald itself would not remove. Listed for auth.findings_for',
    alerts: ['HostGuardAuthLogTampered'],
  },
});

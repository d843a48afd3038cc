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
});

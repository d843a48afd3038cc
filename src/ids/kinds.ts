import { declareKinds } from '../findings/kinds.js';

export const idsKinds = declareKinds('ids', {
  source_unavailable: {
    severity: 'warning',
    description: 'an IDS output file cannot be read (missing, unreadable): alerts written there go uncounted',
    alerts: ['HostGuardIDSSourceUnhealthy'],
  },
  source_silent: {
    severity: 'warning',
    description:
      'an IDS output file has not been written for longer than its `max_silence`: the IDS stopped, lost its interface or writes to a rotated-away file',
    alerts: ['HostGuardIDSSourceSilent'],
  },
  recent_alerts: {
    severity: 'info',
    otherSeverities: { critical: 'for critical-severity alerts', warning: 'for high-severity alerts' },
    description:
      'alerts of one severity from one source in the last 5 minutes (info below high severity); which alerts page is for the rules on hostguard_ids_alerts_total',
    alerts: ['HostGuardIDSHighSeverityAlerts'],
  },
});

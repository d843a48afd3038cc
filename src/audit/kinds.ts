import { declareKinds } from '../findings/kinds.js';

export const auditKinds = declareKinds('audit', {
  report_unavailable: {
    severity: 'warning',
    otherSeverities: { info: 'while a first report is being written' },
    description: 'no complete Lynis report can be read at audit.lynis_report (missing, unreadable, not a report)',
    // The report's timestamp is then 0, which HostGuardAuditReportStale reads as older than any limit.
    alerts: ['HostGuardAuditReportStale'],
  },
  report_stale: {
    severity: 'warning',
    description: 'the newest complete Lynis report is older than audit.max_report_age: the scheduled audit stopped running',
    alerts: ['HostGuardAuditReportStale'],
  },
  hardening_index_dropped: {
    severity: 'warning',
    description: 'the Lynis hardening index is lower than in the baseline: the host was weakened since it was accepted',
    alerts: ['HostGuardAuditHardeningIndexDropped'],
  },
  new_warning: {
    severity: 'warning',
    description: 'a Lynis warning (by test ID) that the baseline does not hold and audit.accept_warnings does not list',
    alerts: ['HostGuardAuditNewWarning'],
  },
});

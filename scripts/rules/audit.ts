import type { RuleFile } from './rule-types.js';

export const auditRules: RuleFile = {
  file: 'hostguard-audit.yml',
  header: [
    'Security audits (collector "audit"): the Lynis report compared with the baseline, and its age.',
    'Every alert carries collector="audit".',
  ],
  groups: [
    {
      name: 'hostguard-audit',
      collector: 'audit',
      rules: [
        {
          alert: 'HostGuardAuditHardeningIndexDropped',
          expr: 'hostguard_audit_hardening_index < hostguard_audit_baseline_hardening_index',
          summary: 'Lynis hardening index dropped on {{ $labels.instance }}',
          description: [
            'The Lynis hardening index of {{ $labels.instance }} is {{ $value }}, lower than when its baseline was accepted:',
            'a control was removed or weakened since (a service opened, a package or a setting changed).',
          ],
        },
        {
          alert: 'HostGuardAuditNewWarning',
          expr: 'hostguard_audit_new_warning > 0',
          summary: 'New Lynis warning {{ $labels.test }} on {{ $labels.instance }}',
          description: [
            'Lynis reports warning {{ $labels.test }} on {{ $labels.instance }}, which its baseline does not hold and the policy',
            'does not accept. `hostguard-exporter check` and the Lynis report have its text.',
          ],
        },
        {
          alert: 'HostGuardAuditReportStale',
          expr: 'time() - hostguard_audit_report_timestamp_seconds > hostguard_audit_report_max_age_seconds',
          for: '15m',
          summary: 'The Lynis report of {{ $labels.instance }} is stale',
          description: [
            'The newest complete Lynis report on {{ $labels.instance }} ({{ $labels.report }}) was finished',
            '{{ $value | humanizeDuration }} ago, longer than audit.max_report_age allows (a time of 0 means none was ever',
            'read): the scheduled audit stopped running, and the hardening index and warnings are out of date.',
          ],
        },
      ],
    },
  ],
};

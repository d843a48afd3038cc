import type { RuleFile } from './rule-types.js';

export const integrityRules: RuleFile = {
  file: 'hostguard-integrity.yml',
  header: [
    'Integrity detections (collector "integrity"). Package upgrades are told from tampering file by file in the',
    'exporter: a change the dpkg database explains (its package changed since the baseline and the content is what',
    'dpkg recorded) is accepted into the baseline by itself and never becomes a finding. Whatever is left is',
    'reported at full severity, whether or not the package manager ran: no rule here looks at package activity.',
  ],
  groups: [
    {
      name: 'hostguard-integrity',
      collector: 'integrity',
      rules: [
        {
          alert: 'HostGuardFileChanged',
          expr: 'hostguard_integrity_mismatch{kind=~"content_changed|added|removed"} > 0',
          summary: '{{ $labels.path }} {{ $labels.kind }} on {{ $labels.instance }}',
          description: [
            '{{ $labels.path }} on {{ $labels.instance }} does not match the baseline ({{ $labels.kind }}), and no package',
            'installed, upgraded or removed since accounts for it: something other than dpkg changed it.',
          ],
        },
        {
          alert: 'HostGuardSetuidChanged',
          expr: 'hostguard_integrity_mismatch{kind="metadata_changed", attribute=~"setuid|setgid"} > 0',
          severity: 'critical',
          summary: '{{ $labels.attribute }} bit changed on {{ $labels.path }} on {{ $labels.instance }}',
          description: [
            'The {{ $labels.attribute }} bit of {{ $labels.path }} on {{ $labels.instance }} differs from the baseline: a setuid',
            'or setgid binary is a way back to root. Never lowered for package upgrades.',
          ],
        },
        {
          alert: 'HostGuardFileMetadataChanged',
          expr: 'hostguard_integrity_mismatch{kind="metadata_changed", attribute!~"setuid|setgid"} > 0',
          summary: '{{ $labels.attribute }} of {{ $labels.path }} changed on {{ $labels.instance }}',
          description: [
            'The {{ $labels.attribute }} of {{ $labels.path }} on {{ $labels.instance }} differs from the baseline: permissions,',
            'ownership or a symbolic link redirected are how access is widened or a binary swapped.',
          ],
        },
        {
          alert: 'HostGuardRunningBinaryMismatch',
          expr: 'hostguard_integrity_mismatch{kind="running_binary_mismatch"} > 0',
          summary: 'Running binary {{ $labels.path }} does not match on {{ $labels.instance }}',
          description: [
            'A process on {{ $labels.instance }} runs an image of {{ $labels.path }} that matches neither the baseline nor the',
            'package, and is not the file a package upgrade replaced: a binary replaced while running, or swapped back to hide.',
          ],
        },
        {
          alert: 'HostGuardPackageMismatch',
          expr: 'hostguard_integrity_mismatch{kind="package_mismatch"} > 0',
          summary: '{{ $labels.path }} differs from its package on {{ $labels.instance }}',
          description: [
            '{{ $labels.path }} on {{ $labels.instance }} does not match the checksum its Debian package installed (what debsums',
            'reports), and no package operation is running: a packaged file modified outside dpkg.',
          ],
        },
        {
          alert: 'HostGuardPrivilegedFileAdded',
          expr: 'hostguard_integrity_mismatch{kind=~"privileged_file_added|privileged_file_changed"} > 0',
          summary: 'Privileged file {{ $labels.path }} ({{ $labels.attribute }}) on {{ $labels.instance }}',
          description: [
            '{{ $labels.path }} on {{ $labels.instance }} has a {{ $labels.attribute }} privilege or change the baseline does not hold',
            '({{ $labels.kind }}): a setuid, setgid or capability file is a way back to root. Never lowered for package upgrades.',
          ],
        },
        {
          alert: 'HostGuardPrivilegedSearchStale',
          expr: [
            'time() - hostguard_integrity_privileged_search_last_end_timestamp_seconds > 2 * hostguard_integrity_privileged_search_interval_seconds',
            'and hostguard_integrity_privileged_search_interval_seconds > 0',
          ],
          for: '15m',
          severity: 'warning',
          summary: 'No privileged-file search has finished on {{ $labels.instance }} for twice its interval',
          description: [
            'The search for setuid, setgid and capability files on {{ $labels.instance }} last finished more than twice its',
            'interval ago (never, at 0): new ones since are unseen. The exporter log says whether it fails or never ends.',
          ],
        },
        {
          alert: 'HostGuardIntegrityWatchIncomplete',
          expr: 'sum by (job, instance) (hostguard_integrity_watch_unwatched_directories) > 0',
          for: '30m',
          severity: 'warning',
          summary: 'Some watched directories on {{ $labels.instance }} have no inotify watch',
          description: [
            '{{ $value }} directories of the watched set on {{ $labels.instance }} could not be watched (the watch limit,',
            'permissions): changes there are seen only by the scheduled scan, minutes later instead of at the next scrape.',
          ],
        },
        {
          alert: 'HostGuardIntegrityScanStale',
          expr: ['time() - hostguard_integrity_last_scan_end_timestamp_seconds > 2 * hostguard_integrity_schedule_interval_seconds'],
          for: '5m',
          severity: 'warning',
          summary: 'No integrity scan has finished on {{ $labels.instance }} for twice its interval',
          description: [
            'The last integrity scan on {{ $labels.instance }} finished more than twice the scheduled interval ago: file changes',
            'since then are unseen. The exporter log says whether scans fail or never end.',
          ],
        },
        {
          alert: 'HostGuardIntegrityScanIncomplete',
          expr: 'hostguard_integrity_scan_problems{problem="over_limit"} > 0',
          for: '30m',
          severity: 'warning',
          summary: 'Integrity scans on {{ $labels.instance }} stop at integrity.max_paths',
          description: [
            'The watched set on {{ $labels.instance }} holds more paths than integrity.max_paths, so scans stop listing part of',
            'it and changes there go unseen: a directory flooded with files, or a watched tree grown too large.',
          ],
        },
      ],
    },
  ],
};

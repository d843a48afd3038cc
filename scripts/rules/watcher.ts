import { jobInWords } from './config.js';
import type { RuleFile } from './rule-types.js';

export const watcherRules: RuleFile = {
  file: 'hostguard-watcher.yml',
  header: [
    'Alerts about the watcher itself: the exporter, its collectors, its policy and its baseline.',
    "An intruder's first move is to silence the watcher, so these alerts are never inhibited.",
    "Only `up` selects the exporter's job (every target has an up series): `npm run rules -- --job-selector` sets it.",
  ],
  groups: [
    {
      name: 'hostguard-watcher',
      rules: [
        {
          alert: 'HostGuardExporterDown',
          expr: ({ jobSelector }) => `up{${jobSelector}} == 0`,
          for: '1m',
          severity: 'critical',
          summary: 'hostguard-exporter is down on {{ $labels.instance }}',
          description: [
            'Prometheus has not been able to scrape hostguard-exporter on {{ $labels.instance }} for a minute.',
            "Until it is back, nothing on this host is watched; stopping the watcher is an intruder's first move.",
          ],
        },
        {
          alert: 'HostGuardExporterAbsent',
          expr: ({ jobSelector }) => `absent(up{${jobSelector}})`,
          for: '5m',
          severity: 'critical',
          summary: 'No hostguard-exporter target is being scraped',
          description: ({ jobSelector }) => [
            `Prometheus has no target ${jobInWords(jobSelector)} at all for 5 minutes: the scrape configuration or service`,
            'discovery lost every host guard, so no host is watched.',
          ],
        },
        {
          alert: 'HostGuardCollectorFailing',
          expr: 'hostguard_scrape_collector_success == 0',
          for: '5m',
          severity: 'warning',
          summary: 'The {{ $labels.collector }} collector is failing on {{ $labels.instance }}',
          description: [
            'The {{ $labels.collector }} collector of hostguard-exporter on {{ $labels.instance }} has failed every',
            'collection for 5 minutes; its detections are blind meanwhile. The exporter log names the error.',
          ],
        },
        {
          alert: 'HostGuardConfigReloadFailed',
          expr: 'hostguard_config_last_reload_successful == 0',
          for: '5m',
          severity: 'warning',
          summary: 'hostguard-exporter on {{ $labels.instance }} rejected its new policy',
          description: [
            'The last policy reload on {{ $labels.instance }} failed, so the previous policy is still enforced. The',
            'exporter log and `POST /-/reload` name the file, line and key at fault.',
          ],
        },
        {
          alert: 'HostGuardBaselineMissing',
          expr: 'hostguard_baseline_present == 0',
          for: '15m',
          severity: 'warning',
          summary: 'hostguard-exporter on {{ $labels.instance }} has no baseline',
          description: [
            'The baseline file of hostguard-exporter on {{ $labels.instance }} is missing or unreadable: the exporter',
            'judges by the policy alone, and a deleted baseline can hide an intrusion.',
          ],
        },
        {
          alert: 'HostGuardBaselineTampered',
          expr: 'hostguard_baseline_present == 1 and hostguard_baseline_verified == 0',
          severity: 'critical',
          summary: 'The baseline on {{ $labels.instance }} fails verification',
          description: [
            'The baseline of hostguard-exporter on {{ $labels.instance }} no longer matches its own checksum or HMAC:',
            'it was edited outside `hostguard-exporter baseline update`, or is corrupt. It is not used until an',
            'operator re-creates it.',
          ],
        },
        {
          alert: 'HostGuardBaselineUnconfirmed',
          expr: 'hostguard_baseline_trust_on_first_use == 1',
          for: '24h',
          severity: 'warning',
          summary: 'The baseline on {{ $labels.instance }} was learned automatically and never confirmed',
          description: [
            'hostguard-exporter on {{ $labels.instance }} learned its baseline at first start (trust on first use) a',
            'day ago or more and no operator has reviewed it: anything running at that moment is trusted.',
          ],
        },
        {
          alert: 'HostGuardStateNotWritable',
          expr: 'hostguard_state_write_failing == 1',
          for: '10m',
          severity: 'warning',
          summary: 'hostguard-exporter on {{ $labels.instance }} cannot write {{ $labels.file }}',
          description: [
            'hostguard-exporter on {{ $labels.instance }} has failed to write {{ $labels.file }} in its state directory for 10',
            'minutes (full or read-only): log positions and the baseline are not kept, so a restart may recount or skip.',
          ],
        },
        {
          alert: 'HostGuardWatcherBlind',
          expr: [
            'max by (job, instance) (hostguard_exporter_capability{capability="cap_sys_ptrace"} == 0)',
            'or',
            'max by (job, instance) (',
            '  hostguard_processes_unjudged{reason="permission_denied"}',
            '    > ignoring (reason, type) 0.1 * hostguard_processes_examined{type="userland"}',
            ')',
          ],
          for: '10m',
          severity: 'warning',
          summary: "hostguard-exporter on {{ $labels.instance }} cannot see other users' processes",
          description: [
            "hostguard-exporter on {{ $labels.instance }} lacks cap_sys_ptrace, or is denied other users' /proc/PID/exe for",
            'more than a tenth of the processes (a security module such as AppArmor): unknown, misplaced and masquerading',
            "processes of other users go unreported and their sockets have no known owner. The exporter's start-up log",
            'names each missing capability and what it hides.',
          ],
        },
      ],
    },
  ],
};

import type { RuleConfig, RuleFile } from './rule-types.js';

/** The fleet rules' settings, in words for the file's header. */
function settings(config: RuleConfig): string[] {
  const f = config.fleet;
  return [
    `  job selector            ${config.jobSelector}`,
    `  K  = ${f.rareHosts}`.padEnd(26) + 'a hash on at most K hosts of a job is rare',
    `  M  = ${f.minReportingHosts}`.padEnd(26) + 'rarity is judged only while at least M hosts of the job report',
    `  memory = ${f.memorySeconds} s`.padEnd(26) + 'a hash not seen anywhere for that long is new again when it comes back',
    `  new for = ${f.newForSeconds} s`.padEnd(26) + 'how long HostGuardExecutableNewToFleet fires after a first sighting',
  ];
}

/** Rarity and first sightings across the hosts of a job, from the exporters' bounded fleet facts. */
export const fleetRules = (config: RuleConfig): RuleFile => {
  const job = config.jobSelector;
  const { rareHosts, minReportingHosts, memorySeconds, newForSeconds } = config.fleet;
  return {
    file: 'hostguard-fleet.yml',
    header: [
      'Fleet rules: what runs on one host in a thousand. Each exporter exposes bounded facts, the SHA-256',
      'of every flagged executable image (hostguard_flagged_executable_info) and of the program behind',
      'every unexpected listener (hostguard_flagged_listener_info), at most fleet_facts.max_series per',
      "host; these rules count them across the hosts of a job. They need every host's series in one",
      "place: a central Prometheus that agents remote-write to, a Thanos ruler, or Mimir's ruler",
      '(docs/scale.md, deploy/fleet/). Names follow level:metric:operations; "hash" in a level stands for',
      'the sha256 label.',
      '',
      'Configuration (`npm run rules -- --help`: --job-selector, --fleet-rare-hosts, --fleet-min-hosts,',
      '--fleet-memory, --fleet-new-for):',
      ...settings(config),
      '',
      'A host "reports" when its scrape succeeds and it has no flagged executable still waiting for its',
      'hash: right after an exporter starts, its facts are incomplete for a collection or two, and a',
      'fleet-wide restart would otherwise make every common executable look rare for a moment.',
    ],
    groups: [
      {
        name: 'hostguard-fleet',
        comment: [
          'One group: rules are evaluated in order, so each alert reads what was recorded in the same',
          'evaluation; the "seen" rules read their own earlier values (last_over_time over 1h survives',
          'a missed evaluation or a short restart; a longer gap starts their memory over).',
        ],
        rules: [
          {
            record: 'job:hostguard_reporting_hosts:count',
            expr: [
              'count by (job) (',
              `  up{${job}} == 1`,
              `  unless on (job, instance) (hostguard_flagged_executables_unhashed{${job}, reason="pending"} > 0)`,
              ')',
            ],
          },
          {
            record: 'job_hash:hostguard_flagged_executable_info:count_hosts',
            expr: `count by (job, sha256) (group by (job, instance, sha256) (hostguard_flagged_executable_info{${job}}))`,
          },
          {
            record: 'job_hash_port:hostguard_flagged_listener_info:count_hosts',
            expr: [
              'count by (job, sha256, protocol, port) (',
              `  group by (job, instance, sha256, protocol, port) (hostguard_flagged_listener_info{${job}})`,
              ')',
            ],
          },
          {
            record: 'job:hostguard_fleet_memory:start_timestamp_seconds',
            commentAbove: [
              'When the fleet\'s memory of hashes began: "new to the fleet" means something only once it',
              'spans the whole memory window, so a freshly loaded rule set does not call everything new.',
            ],
            expr: [
              'min by (job) (',
              '  last_over_time(job:hostguard_fleet_memory:start_timestamp_seconds[1h])',
              '  or time() + 0 * job:hostguard_reporting_hosts:count',
              ')',
            ],
          },
          {
            record: 'job_hash:hostguard_flagged_executable_info:last_seen_timestamp_seconds',
            commentAbove: ['Kept for the memory window after the hash was last seen on any host of the job.'],
            expr: [
              'max by (job, sha256) (',
              '  time() + 0 * job_hash:hostguard_flagged_executable_info:count_hosts',
              `  or last_over_time(job_hash:hostguard_flagged_executable_info:last_seen_timestamp_seconds[1h]) > time() - ${memorySeconds}`,
              ')',
            ],
          },
          {
            record: 'job_hash:hostguard_flagged_executable_info:first_seen_timestamp_seconds',
            expr: [
              'min by (job, sha256) (',
              '  last_over_time(job_hash:hostguard_flagged_executable_info:first_seen_timestamp_seconds[1h])',
              '  or time() + 0 * job_hash:hostguard_flagged_executable_info:count_hosts',
              ')',
              'and on (job, sha256) job_hash:hostguard_flagged_executable_info:last_seen_timestamp_seconds',
            ],
          },
          {
            alert: 'HostGuardRareExecutable',
            commentAbove: ['Joined back to every host that runs it: one alert per host, with its path and finding kind.'],
            expr: [
              `hostguard_flagged_executable_info{${job}}`,
              '* on (job, sha256) group_left ()',
              '(',
              `  job_hash:hostguard_flagged_executable_info:count_hosts <= ${rareHosts}`,
              `  and on (job) (job:hostguard_reporting_hosts:count >= ${minReportingHosts})`,
              ')',
            ],
            comment: ['Longer than a rolling deployment takes to reach more than K hosts.'],
            for: '15m',
            severity: 'warning',
            collector: 'processes',
            summary: 'Rare flagged executable {{ $labels.exe }} on {{ $labels.instance }}',
            description: [
              '{{ $labels.exe }} ({{ $labels.kind }}, SHA-256 {{ $labels.sha256 }}) runs on {{ $labels.instance }} and on',
              '{{ $value | printf "%.0f" }} host(s) in all of job {{ $labels.job }}: an executable with a finding that almost',
              'no other host runs is more likely an implant than a deployment.',
            ],
          },
          {
            alert: 'HostGuardRareListener',
            expr: [
              `hostguard_flagged_listener_info{${job}}`,
              '* on (job, sha256, protocol, port) group_left ()',
              '(',
              `  job_hash_port:hostguard_flagged_listener_info:count_hosts <= ${rareHosts}`,
              `  and on (job) (job:hostguard_reporting_hosts:count >= ${minReportingHosts})`,
              ')',
            ],
            for: '15m',
            severity: 'warning',
            collector: 'network',
            summary: 'Rare unexpected listener on {{ $labels.protocol }} port {{ $labels.port }} on {{ $labels.instance }}',
            description: [
              '{{ $labels.exe }} listens on {{ $labels.protocol }} port {{ $labels.port }} on {{ $labels.instance }}, an',
              'unexpected listener that {{ $value | printf "%.0f" }} host(s) in all of job {{ $labels.job }} have with this',
              'program: a port open on one server of many.',
            ],
          },
          {
            alert: 'HostGuardExecutableNewToFleet',
            expr: [
              `hostguard_flagged_executable_info{${job}}`,
              '* on (job, sha256) group_left ()',
              '(',
              `  time() - job_hash:hostguard_flagged_executable_info:first_seen_timestamp_seconds < ${newForSeconds}`,
              `  and on (job) (time() - job:hostguard_fleet_memory:start_timestamp_seconds > ${memorySeconds})`,
              ')',
            ],
            severity: 'warning',
            collector: 'processes',
            summary: 'Flagged executable {{ $labels.exe }} is new to the fleet, on {{ $labels.instance }}',
            description: [
              '{{ $labels.exe }} ({{ $labels.kind }}, SHA-256 {{ $labels.sha256 }}) runs on {{ $labels.instance }}, and no host',
              `of job {{ $labels.job }} ran it in the ${Math.round(memorySeconds / 86400)} days before it was first seen {{ $value | humanizeDuration }} ago:`,
              'a new binary with a finding, however many hosts it reached at once.',
            ],
          },
        ],
      },
    ],
  };
};

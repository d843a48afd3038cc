import { metricSpec } from './spec.js';

const sha256 =
  '64 hex digits: the SHA-256 of the running image, read through /proc/PID/exe (so a deleted or replaced file is still the image that runs); unbounded by nature, so each host exposes at most fleet_facts.max_series of them';

/**
 * Fleet facts: one series per flagged executable image and per unexpected listener's program and
 * port, for the monitoring side to count across hosts (rules/hostguard-fleet.yml). Set by the
 * processes and network collectors; the budget is the policy's fleet_facts.max_series per section.
 */
export const fleetMetricSpecs = {
  flaggedExecutable: metricSpec({
    name: 'hostguard_flagged_executable_info',
    type: 'gauge',
    help: 'An executable image that running processes with a finding run (value 1), by its SHA-256, its path and the most severe finding kind; never for an executable without a finding.',
    labels: {
      sha256,
      exe: 'executable path (/proc/PID/exe), at most 256 characters, as in hostguard_process_flagged',
      kind: 'the most severe finding kind of the processes running it: deleted_executable, writable_location, name_mismatch, unknown_executable, unexpected_user',
    },
    notes:
      'At most processes.fleet_facts.max_series series (default 50; the excess is in hostguard_finding_series_dropped{metric="hostguard_flagged_executable_info"}). An image appears once it is hashed, off the scrape path: usually at the collection after the one that first flagged it (hostguard_flagged_executables_unhashed{reason="pending"} counts the wait). Hashes are kept per image (device, inode, size, mtime, ctime) and not read again while the image is unchanged.',
  }),
  flaggedListener: metricSpec({
    name: 'hostguard_flagged_listener_info',
    type: 'gauge',
    help: "An unexpected listener by the program holding it (value 1): the SHA-256 of the program's image, its path, the protocol and the port; IPv4 and IPv6 sockets of one program on one port are one series.",
    labels: {
      sha256: `${sha256}; empty (absent in Prometheus) when no process holds the socket or its owner cannot be read`,
      exe: 'path of the program holding the socket, "kernel" for a socket no process holds, "unknown" when the owner could not be read',
      protocol: '"tcp" or "udp"',
      port: 'the listening port',
    },
    notes:
      'At most listeners.fleet_facts.max_series series (default 50; the excess is in hostguard_finding_series_dropped{metric="hostguard_flagged_listener_info"}). The bind address is not a label: it differs between hosts and would split what rules count across them (it is in hostguard_network_unexpected_listener).',
  }),
  unhashed: metricSpec({
    name: 'hostguard_flagged_executables_unhashed',
    type: 'gauge',
    help: 'Flagged executable images left out of a fleet fact metric because their SHA-256 is not known: "pending" ones are being hashed and appear at a later collection, "unreadable" ones could not be read (permissions, I/O).',
    labels: {
      metric: 'hostguard_flagged_executable_info or hostguard_flagged_listener_info',
      reason: '"pending" or "unreadable"',
    },
    notes:
      'The fleet rules count a host with pending hashes as not yet reporting, so a fleet-wide restart does not make every executable look rare for a moment.',
  }),
} as const;

/**
 * Every collector's name, what it does and whether it runs without flags: what the command line
 * needs (--collector.<name>, --help), without loading any collector's code. Each collector's
 * definition (registry.ts) spreads its entry here, so the two cannot disagree.
 */
export interface CollectorInfo {
  readonly name: string;
  readonly description: string;
  readonly defaultEnabled: boolean;
}

export const collectorCatalog = {
  processes: {
    name: 'processes',
    description: 'running processes: unknown, misplaced, masquerading, short-lived and hidden ones',
    defaultEnabled: true,
  },
  network: {
    name: 'network',
    description: 'listening sockets, outgoing connections, shells on sockets and hidden ports (ss -tulnp, lsof -i, unhide-tcp)',
    defaultEnabled: true,
  },
  integrity: {
    name: 'integrity',
    description: 'hashes of watched files and running executables against the baseline and the package database',
    defaultEnabled: true,
  },
  kernel: {
    name: 'kernel',
    description: 'the running kernel against the baseline: modules loaded, taint flags gained, security sysctls changed',
    defaultEnabled: true,
  },
  auth: { name: 'auth', description: 'authentication failures and logins from auth logs and the journal', defaultEnabled: true },
  // Like node_exporter's textfile collector: on by default, idle without its policy section.
  ids: {
    name: 'ids',
    description: 'alerts of Suricata, Snort 3 and Wazuh/OSSEC from their JSON outputs (policy section ids)',
    defaultEnabled: true,
  },
  // Like node_exporter's textfile collector: on by default, idle without its policy section.
  audit: {
    name: 'audit',
    description: 'Lynis audit reports: hardening index, warnings, report age; optionally runs Lynis on a schedule (policy section audit)',
    defaultEnabled: true,
  },
} as const satisfies Record<string, CollectorInfo>;

/** In the order the collectors run (registry.ts). */
export const collectorInfos: readonly CollectorInfo[] = [
  collectorCatalog.processes,
  collectorCatalog.network,
  collectorCatalog.integrity,
  collectorCatalog.kernel,
  collectorCatalog.auth,
  collectorCatalog.ids,
  collectorCatalog.audit,
];

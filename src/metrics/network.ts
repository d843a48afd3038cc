import { metricSpec } from './spec.js';

const protocol = '"tcp" or "udp"';
const exe =
  'path of the executable holding the socket (several joined by ","), "kernel" for a socket no process holds, "unknown" when the owner could not be read';

/** Metrics of the network collector: listeners, outgoing connections, hidden ports, and what reading them cost. */
export const networkMetricSpecs = {
  listeners: metricSpec({
    name: 'hostguard_network_listeners',
    type: 'gauge',
    help: 'Listening sockets: TCP in LISTEN and bound unconnected UDP, as `ss -tuln` lists them.',
    labels: { protocol, family: '"ipv4" or "ipv6"' },
  }),
  unexpectedListeners: metricSpec({
    name: 'hostguard_network_unexpected_listeners',
    type: 'gauge',
    help: 'Listening sockets that no listeners rule and no baseline entry accounts for, by reason.',
    labels: {
      protocol,
      reason:
        '"not_allowed" (no rule or baseline entry for the port), "unexpected_program" (the port is allowed for another program or user), "owner_unknown" (allowed only for a program, owner not found)',
    },
    notes: 'Counts sockets, so a server listening on 0.0.0.0 and :: counts twice; the findings count it once.',
  }),
  unexpectedListener: metricSpec({
    name: 'hostguard_network_unexpected_listener',
    type: 'gauge',
    help: 'One series per unexpected listener; the value is the number of sockets (IPv4 and IPv6) it has.',
    labels: {
      protocol,
      address: '"any" (all addresses), "loopback", or the local address it is bound to (bounded by the host\'s addresses)',
      port: 'the listening port (bounded by the listeners present)',
      exe,
      user_class: 'owner\'s user class: "root", "system", "regular" (several joined by ","), or "unknown"',
      reason: 'as in hostguard_network_unexpected_listeners',
    },
    notes: 'Limited by --metrics.max-finding-series. The finding\'s subject carries the user name and the pid is in its message; labels carry neither.',
  }),
  outboundConnections: metricSpec({
    name: 'hostguard_network_outbound_connections',
    type: 'gauge',
    help: 'Outgoing connections (TCP established or being established, connected UDP), loopback excluded unless the policy watches it.',
    labels: { protocol },
    notes: 'Present only while the policy has an `outbound` section.',
  }),
  presumedAccepted: metricSpec({
    name: 'hostguard_network_presumed_accepted_connections',
    type: 'gauge',
    help: 'Established connections on a port no listener owns, taken as sessions of a server whose listener closed and left out of the outgoing ones: their local port is outside the ephemeral range, their peer\'s port is a client\'s, and their program may listen on that port by the listeners policy or baseline.',
    labels: { protocol: '"tcp" (UDP has no accept())' },
    notes:
      'Present only while the policy has an `outbound` section; counts what the outbound rules do not judge: the sessions of allowed servers that restarted or are draining, or of any program on a port allowed without naming one (README, Network).',
  }),
  unexpectedOutbound: metricSpec({
    name: 'hostguard_network_unexpected_outbound_connections',
    type: 'gauge',
    help: 'Outgoing connections that no outbound rule allows.',
    labels: { protocol },
    notes: 'Present only while the policy has an `outbound` section.',
  }),
  unexpectedOutboundConnection: metricSpec({
    name: 'hostguard_network_unexpected_outbound_connection',
    type: 'gauge',
    help: 'Unexpected outgoing connections per program and remote port; the value is the number of connections.',
    labels: { protocol, exe, remote_port: 'destination port' },
    notes: 'Limited by --metrics.max-finding-series. Remote addresses are never labels: they are in the finding\'s subject.',
  }),
  hiddenPorts: metricSpec({
    name: 'hostguard_network_hidden_ports',
    type: 'gauge',
    help: 'Ports that could not be bound yet appear in no /proc/net table, confirmed twice by the last sweep.',
    labels: { protocol },
  }),
  hiddenPort: metricSpec({
    name: 'hostguard_network_hidden_port',
    type: 'gauge',
    help: 'One series per hidden port found by the last sweep (value 1).',
    labels: { protocol, port: 'the hidden port' },
    notes: 'Limited by --metrics.max-finding-series.',
  }),
  sweepTimestamp: metricSpec({
    name: 'hostguard_network_hidden_port_sweep_last_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last hidden-port sweep finished; 0 before the first (the sweep runs in `serve` only, on `listeners.hidden_ports.schedule`).',
    labels: {},
  }),
  sweepDuration: metricSpec({
    name: 'hostguard_network_hidden_port_sweep_duration_seconds',
    type: 'gauge',
    help: 'Wall time of the last hidden-port sweep, confirmation delay included.',
    labels: {},
  }),
  sweepUnchecked: metricSpec({
    name: 'hostguard_network_hidden_port_sweep_unchecked_ports',
    type: 'gauge',
    help: 'Ports the last sweep could not probe (privileged ports when not root).',
    labels: { protocol },
  }),
  ownerUnknown: metricSpec({
    name: 'hostguard_network_sockets_owner_unknown',
    type: 'gauge',
    help: 'Listening sockets (and judged outgoing connections) whose owning process could not be found, by cause.',
    labels: { cause: '"denied" (descriptor tables closed to us: run as root), "not_found" (no readable process holds it)' },
  }),
  fdScans: metricSpec({
    name: 'hostguard_network_fd_scans_total',
    type: 'counter',
    help: 'Collections that read processes\' descriptor tables: every process when a socket is not mapped to its process yet and every 5 minutes, otherwise the processes started since the last collection.',
    labels: {},
    notes: 'On a quiet host it rises once per rescan interval: a mapped socket is re-checked with one readlink per holder.',
  }),
  fdScanProcesses: metricSpec({
    name: 'hostguard_network_fd_scan_processes_total',
    type: 'counter',
    help: 'Processes whose descriptor tables were read by those scans.',
    labels: {},
  }),
  readProblems: metricSpec({
    name: 'hostguard_network_read_problems_total',
    type: 'counter',
    help: 'Problems met while reading sockets and their owners; counted, never fatal.',
    labels: {
      problem:
        '"malformed_line" (a /proc/net line of the wrong shape), "socket_gone" (closed between the table read and the descriptor scan), "process_gone" (owner exited while read), "fd_denied" (a process\'s descriptors could not be read)',
    },
  }),
} as const;

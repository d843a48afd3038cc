import { metricSpec } from './spec.js';

const protocol = '"tcp" or "udp"';
const outboundReason =
  '"flagged_process" (the process has a finding), "new_destination" (a shell, interpreter or network tool to a destination class and port the baseline did not see it use), "not_allowed" (`judge: all`)';
const remoteClass =
  'the remote address\'s class: a name from `outbound.networks`, or "loopback", "private", "link_local", "metadata", "multicast", "public"';
const programClass = '"interpreter" (`processes.interpreters`), "network_tool" (`outbound.network_tools`) or "other"';
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
    notes:
      "Limited by --metrics.max-finding-series. The finding's subject carries the user name and the pid is in its message; labels carry neither.",
  }),
  outboundConnections: metricSpec({
    name: 'hostguard_network_outbound_connections',
    type: 'gauge',
    help: 'Outgoing connections (TCP established or being established, connected UDP), loopback excluded unless the policy watches it.',
    labels: { protocol },
    notes:
      'Absent while the policy judges no outgoing connection (`judge: unusual` with `flagged_processes` and `new_destinations` false).',
  }),
  presumedAccepted: metricSpec({
    name: 'hostguard_network_presumed_accepted_connections',
    type: 'gauge',
    help: "Established connections on a port no listener owns, taken as sessions of a server whose listener closed and left out of the outgoing ones: their local port is outside the ephemeral range, their peer's port is a client's, and their program may listen on that port by the listeners policy or baseline.",
    labels: { protocol: '"tcp" (UDP has no accept())' },
    notes:
      'Absent while outgoing connections are not judged; counts what the outbound judgment leaves out: the sessions of allowed servers that restarted or are draining, or of any program on a port allowed without naming one (docs/collectors/network.md).',
  }),
  unexpectedOutbound: metricSpec({
    name: 'hostguard_network_unexpected_outbound_connections',
    type: 'gauge',
    help: 'Outgoing connections that are unexpected_outbound findings, by reason.',
    labels: { protocol, reason: outboundReason },
    notes: 'Absent while outgoing connections are not judged.',
  }),
  unexpectedOutboundConnection: metricSpec({
    name: 'hostguard_network_unexpected_outbound_connection',
    type: 'gauge',
    help: 'Unexpected outgoing connections per program, reason, destination class and remote port; the value is the number of connections.',
    labels: { protocol, exe, reason: outboundReason, remote_class: remoteClass, remote_port: 'destination port' },
    notes: "Limited by --metrics.max-finding-series. Remote addresses are never labels: they are in the finding's subject.",
  }),
  shellOnSocket: metricSpec({
    name: 'hostguard_network_shell_on_socket',
    type: 'gauge',
    help: 'Processes whose standard input, output or error is a TCP or UDP socket no super-server listens on and no rule allows (reverse and bind shells), per program and socket end; the value is the number of processes.',
    labels: {
      exe: 'path of the executable on the socket',
      user_class: 'its user class: "root", "system", "regular"',
      program_class: programClass,
      protocol,
      direction: '"outgoing" (a connection it opened: a reverse shell), "incoming" (one it was handed: a bind shell) or "listening"',
      remote_class: `${remoteClass}; "none" for a listening socket`,
      port: 'the remote port of an outgoing connection, the local port otherwise',
    },
    notes: 'Limited by --metrics.max-finding-series.',
  }),
  shellOnSocketStarts: metricSpec({
    name: 'hostguard_network_shell_on_socket_starts_total',
    type: 'counter',
    help: 'Processes the watch of new PIDs saw start (or exec) with a TCP or UDP socket as a standard stream that is a shell_on_socket finding, also those that exited before a scrape.',
    labels: { program_class: programClass },
    notes: 'Counted only while the processes collector runs its watch of starts (in `serve`); each process once.',
  }),
  flaggedBytes: metricSpec({
    name: 'hostguard_network_flagged_bytes_total',
    type: 'counter',
    help: "Bytes carried by TCP connections that carry a finding, from the kernel's TCP info (`ss -ti`): sent is the payload the peer acknowledged, received the payload received.",
    labels: {
      direction: '"sent" or "received"',
      kind: '"shell_on_socket" (a process has the connection as a standard stream) or "unexpected_outbound"; a connection with both counts under shell_on_socket',
    },
    notes:
      'Not counted: UDP (no such counters), what a connection carried between the last collection that saw it and its close, and the flagged connections of a collection in which `ss` failed (read_problems_total{problem="tcp_info_failed"}). A connection first seen flagged adds all it carried since it opened.',
  }),
  tcpInfoReads: metricSpec({
    name: 'hostguard_network_tcp_info_reads_total',
    type: 'counter',
    help: 'Times `ss` was run to read the byte counters of flagged connections: only in collections that have flagged TCP connections.',
    labels: {},
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
    help: "Collections that read processes' descriptor tables: every process when a socket is not mapped to its process yet and every 5 minutes, otherwise the processes started since the last collection.",
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
        '"malformed_line" (a /proc/net line of the wrong shape), "socket_gone" (closed between the table read and the descriptor scan), "process_gone" (owner exited while read), "fd_denied" (a process\'s descriptors could not be read), "tcp_info_failed" (`ss` could not be run or failed)',
    },
  }),
} as const;

import { declareKinds } from '../findings/kinds.js';

export const networkKinds = declareKinds('network', {
  shell_on_socket: {
    severity: 'critical',
    otherSeverities: {
      warning:
        'when the program is neither a shell, an interpreter (`processes.interpreters`) nor a network tool (`outbound.network_tools`)',
    },
    description:
      "a process whose standard input, output or error is a TCP or UDP socket (a reverse or bind shell), except on a socket a super-server listens on (inetd, systemd `Accept=yes`) and for programs `shell_on_socket.allow` names; the subject's `direction` tells a connection it opened (`outgoing`) from one it was handed (`incoming`) and a listening socket",
    alerts: ['HostGuardShellOnSocket', 'HostGuardProgramOnSocket', 'HostGuardShellOnSocketStarted'],
  },
  unexpected_listener: {
    severity: 'warning',
    otherSeverities: { critical: 'when the port is allowed, but for another program or user (reason "unexpected_program")' },
    description:
      'a listening socket no rule or baseline entry accounts for; the subject\'s `reason` tells "not_allowed" (unknown port), "unexpected_program" (an allowed port held by another program or user) and "owner_unknown" apart',
    alerts: ['HostGuardUnexpectedListener', 'HostGuardListenerUnexpectedProgram', 'HostGuardListenerFirstSeen'],
  },
  unexpected_outbound: {
    severity: 'warning',
    description:
      "an outgoing connection no `outbound.allow` rule allows, and (with `judge: unusual`, the default) that means something: the subject's `reason` tells a process with a finding of the processes collector (`flagged_process`) from a shell, interpreter or network tool calling a destination class and port the baseline did not see it use (`new_destination`); with `judge: all`, any connection (`not_allowed`)",
    alerts: ['HostGuardUnexpectedOutbound'],
  },
  hidden_port: {
    severity: 'critical',
    description:
      'a port that cannot be bound yet appears in no /proc/net table, twice in a row: a socket hidden from `ss` and netstat (found by the sweep, in `serve`)',
    alerts: ['HostGuardHiddenPort'],
  },
});

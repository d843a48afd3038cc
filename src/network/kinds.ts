import { declareKinds } from '../findings/kinds.js';

export const networkKinds = declareKinds('network', {
  unexpected_listener: {
    severity: 'warning',
    otherSeverities: { critical: 'when the port is allowed, but for another program or user (reason "unexpected_program")' },
    description:
      'a listening socket no rule or baseline entry accounts for; the subject\'s `reason` tells "not_allowed" (unknown port), "unexpected_program" (an allowed port held by another program or user) and "owner_unknown" apart',
    alerts: ['HostGuardUnexpectedListener', 'HostGuardListenerUnexpectedProgram', 'HostGuardListenerFirstSeen'],
  },
  unexpected_outbound: {
    severity: 'warning',
    description: 'an outgoing connection to a destination no `outbound` rule allows for that program (only with an `outbound` section)',
    alerts: ['HostGuardUnexpectedOutbound'],
  },
  hidden_port: {
    severity: 'critical',
    description: 'a port that cannot be bound yet appears in no /proc/net table, twice in a row: a socket hidden from `ss` and netstat (found by the sweep, in `serve`)',
    alerts: ['HostGuardHiddenPort'],
  },
});

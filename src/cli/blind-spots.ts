import { hasCapability, type CapabilitySets } from '../procfs/capabilities.js';

/** A capability the exporter needs to see the whole host. */
export type NeededCapability = 'cap_sys_ptrace' | 'cap_dac_read_search' | 'cap_net_bind_service';

/** What the exporter cannot see for want of one capability. */
export interface BlindSpot {
  readonly capability: NeededCapability;
  /** What stays out of sight, in the operator's words. */
  readonly hidden: string;
  /**
   * The capability is in the bounding set (the container runtime or service manager granted it)
   * but was not in the ambient set, so the kernel dropped it when the program started as a
   * non-root user: the trap of `runAsUser: 65534` with `capabilities.add`.
   */
  readonly droppedAtExec: boolean;
}

function processesHidden(uid: number): string {
  const whose =
    uid === 0 ? "other users' processes and of root's processes that hold capabilities the exporter lacks" : "other users' processes";
  return (
    `/proc/PID/exe, fd and root of ${whose} are closed to it: those processes are not judged ` +
    '(unknown_executable, unexpected_user, deleted_executable, writable_location, name_mismatch), ' +
    'the sockets they hold have no known owner, and their running executables are not checked'
  );
}

function filesHidden(uid: number): string {
  return uid === 0
    ? 'files and directories root does not own and whose mode shuts others out cannot be read: such watched files are not hashed and such logs are not followed'
    : 'files and directories its user and groups may not read cannot be read: such watched files (/etc/shadow) are not hashed and such logs are not followed';
}

/**
 * The blind spots of an exporter running as `uid` with these capability sets, one per needed
 * capability not in effect. Root without the capability is blind too: reading another process's
 * /proc/PID/exe is a ptrace access check, which uid 0 passes only for root's processes whose
 * capabilities are a subset of its own, and uid 0 reads other owners' files only by their mode.
 */
export function blindSpots(uid: number, sets: CapabilitySets): BlindSpot[] {
  const missing = (capability: NeededCapability): boolean => !hasCapability(sets.effective, capability);
  const dropped = (capability: NeededCapability): boolean =>
    uid !== 0 && hasCapability(sets.bounding, capability) && !hasCapability(sets.ambient, capability);
  const spots: BlindSpot[] = [];
  if (missing('cap_sys_ptrace'))
    spots.push({ capability: 'cap_sys_ptrace', hidden: processesHidden(uid), droppedAtExec: dropped('cap_sys_ptrace') });
  // CAP_DAC_OVERRIDE (root's default) reads everything too; the exporter asks only for the read-only one.
  if (missing('cap_dac_read_search') && !hasCapability(sets.effective, 'cap_dac_override')) {
    spots.push({ capability: 'cap_dac_read_search', hidden: filesHidden(uid), droppedAtExec: dropped('cap_dac_read_search') });
  }
  if (missing('cap_net_bind_service')) {
    spots.push({
      capability: 'cap_net_bind_service',
      hidden: 'ports below 1024 cannot be probed for hidden listeners (hidden_port), unless net.ipv4.ip_unprivileged_port_start allows it',
      droppedAtExec: dropped('cap_net_bind_service'),
    });
  }
  return spots;
}

import { readFileSync } from 'node:fs';

/** Every Linux capability by its bit number (capabilities(7), linux/capability.h up to 6.x). */
export const capabilityBits = {
  cap_chown: 0,
  cap_dac_override: 1,
  cap_dac_read_search: 2,
  cap_fowner: 3,
  cap_fsetid: 4,
  cap_kill: 5,
  cap_setgid: 6,
  cap_setuid: 7,
  cap_setpcap: 8,
  cap_linux_immutable: 9,
  cap_net_bind_service: 10,
  cap_net_broadcast: 11,
  cap_net_admin: 12,
  cap_net_raw: 13,
  cap_ipc_lock: 14,
  cap_ipc_owner: 15,
  cap_sys_module: 16,
  cap_sys_rawio: 17,
  cap_sys_chroot: 18,
  cap_sys_ptrace: 19,
  cap_sys_pacct: 20,
  cap_sys_admin: 21,
  cap_sys_boot: 22,
  cap_sys_nice: 23,
  cap_sys_resource: 24,
  cap_sys_time: 25,
  cap_sys_tty_config: 26,
  cap_mknod: 27,
  cap_lease: 28,
  cap_audit_write: 29,
  cap_audit_control: 30,
  cap_setfcap: 31,
  cap_mac_override: 32,
  cap_mac_admin: 33,
  cap_syslog: 34,
  cap_wake_alarm: 35,
  cap_block_suspend: 36,
  cap_audit_read: 37,
  cap_perfmon: 38,
  cap_bpf: 39,
  cap_checkpoint_restore: 40,
} as const;
export type CapabilityName = keyof typeof capabilityBits;

/**
 * The capabilities that decide what the exporter can see (capabilities(7)): without them, as a
 * plain user, other users' executables, file descriptors and some files are out of sight.
 */
export const watchedCapabilities = {
  cap_dac_override: 1,
  cap_dac_read_search: 2,
  cap_net_bind_service: 10,
  cap_sys_ptrace: 19,
} as const satisfies Partial<Record<CapabilityName, number>>;
export type WatchedCapability = keyof typeof watchedCapabilities;

/** The five capability sets of a process, as bit masks (/proc/PID/status CapInh … CapAmb). */
export interface CapabilitySets {
  readonly inheritable: bigint;
  readonly permitted: bigint;
  readonly effective: bigint;
  readonly bounding: bigint;
  readonly ambient: bigint;
}

const statusFields = { inheritable: 'CapInh', permitted: 'CapPrm', effective: 'CapEff', bounding: 'CapBnd', ambient: 'CapAmb' } as const;

function parseMask(statusText: string, field: string): bigint {
  const match = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(statusText);
  return match ? BigInt(`0x${match[1]}`) : 0n;
}

/** The capability sets from a /proc/PID/status text; a set the text lacks reads as empty. */
export function parseCapabilitySets(statusText: string): CapabilitySets {
  const sets = {} as Record<keyof CapabilitySets, bigint>;
  for (const [set, field] of Object.entries(statusFields) as Array<[keyof CapabilitySets, string]>)
    sets[set] = parseMask(statusText, field);
  return sets;
}

/** The effective capability set from a /proc/PID/status text, as a bit mask. */
export function parseEffectiveCapabilities(statusText: string): bigint {
  return parseMask(statusText, 'CapEff');
}

export function hasCapability(mask: bigint, capability: CapabilityName): boolean {
  return (mask & (1n << BigInt(capabilityBits[capability]))) !== 0n;
}

/** The names of the capabilities in a mask, in bit order (bits without a known name are left out). */
export function capabilityNames(mask: bigint): CapabilityName[] {
  return (Object.keys(capabilityBits) as CapabilityName[]).filter((name) => hasCapability(mask, name));
}

/** The mask of these capabilities. */
export function capabilityMask(names: Iterable<CapabilityName>): bigint {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(capabilityBits[name]);
  return mask;
}

/** This process's own capability sets (always from the real /proc: it is about us, not the host); empty when unreadable. */
export function ownCapabilitySets(): CapabilitySets {
  try {
    return parseCapabilitySets(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return parseCapabilitySets('');
  }
}

/** This process's own effective capabilities. */
export function ownCapabilities(): bigint {
  return ownCapabilitySets().effective;
}

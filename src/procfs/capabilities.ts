import { readFileSync } from 'node:fs';

/**
 * The capabilities that decide what the exporter can see (capabilities(7)): without them, as a
 * plain user, other users' executables, file descriptors and some files are out of sight.
 */
export const watchedCapabilities = {
  cap_dac_override: 1,
  cap_dac_read_search: 2,
  cap_net_bind_service: 10,
  cap_sys_ptrace: 19,
} as const;
export type WatchedCapability = keyof typeof watchedCapabilities;

/** The effective capability set from a /proc/PID/status text, as a bit mask. */
export function parseEffectiveCapabilities(statusText: string): bigint {
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText);
  return match ? BigInt(`0x${match[1]}`) : 0n;
}

export function hasCapability(mask: bigint, capability: WatchedCapability): boolean {
  return (mask & (1n << BigInt(watchedCapabilities[capability]))) !== 0n;
}

/** This process's own effective capabilities (always from the real /proc: it is about us, not the host). */
export function ownCapabilities(): bigint {
  try {
    return parseEffectiveCapabilities(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return 0n;
  }
}

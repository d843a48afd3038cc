import { readFileSync } from 'node:fs';
import { parsePortRange, type PortRange } from '../match/port-range.js';
import { ProcParseError, problemOf } from './errors.js';

/**
 * The local ports the kernel hands out to a socket that connects without binding a port first
 * (connect(), or bind() to port 0): /proc/sys/net/ipv4/ip_local_port_range less
 * ip_local_reserved_ports. Both apply to IPv6 too, and belong to the reader's network namespace,
 * like /proc/net.
 */
export interface EphemeralPorts {
  readonly range: PortRange;
  readonly reserved: readonly PortRange[];
}

/** The kernel's default since Linux 4.x (net.ipv4.ip_local_port_range = 32768 60999), nothing reserved. */
export const kernelDefaultEphemeralPorts: EphemeralPorts = { range: { from: 32768, to: 60999 }, reserved: [] };

/** "32768\t60999": two ports, the first not above the second. */
export function parseLocalPortRange(text: string, file = 'ip_local_port_range'): PortRange {
  const match = /^\s*(\d{1,5})\s+(\d{1,5})\s*$/.exec(text);
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (!match || from < 1 || to > 65535 || from > to) throw new ProcParseError(file, `not a port range: "${text.trim()}"`);
  return { from, to };
}

/** "8080,9000-9100", or an empty line when nothing is reserved. */
export function parseReservedPorts(text: string, file = 'ip_local_reserved_ports'): PortRange[] {
  const list = text.trim();
  if (list === '') return [];
  return list.split(',').map((spec) => {
    try {
      return parsePortRange(spec);
    } catch (error) {
      throw new ProcParseError(file, (error as Error).message);
    }
  });
}

/** Throws when the range cannot be read; a kernel without ip_local_reserved_ports reserves nothing. */
export function readEphemeralPorts(procfs: string): EphemeralPorts {
  const dir = `${procfs}/sys/net/ipv4`;
  const range = parseLocalPortRange(readFileSync(`${dir}/ip_local_port_range`, 'latin1'), `${dir}/ip_local_port_range`);
  let reserved: PortRange[] = [];
  try {
    reserved = parseReservedPorts(readFileSync(`${dir}/ip_local_reserved_ports`, 'latin1'), `${dir}/ip_local_reserved_ports`);
  } catch (error) {
    if (problemOf(error) !== 'gone') throw error;
  }
  return { range, reserved };
}

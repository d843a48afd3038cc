import { z } from 'zod';
import type { NetProtocol } from '../procfs/net.js';

/**
 * The destinations the baseline saw shells, interpreters and network tools use, kept in the
 * network collector's section beside the listeners: one entry per (program, protocol, destination
 * class, port), keyed `outbound tcp/private/5432 /usr/bin/python3.11` so that `baseline diff` reads
 * as a list of them, plus the entry `outbound` that says the section was learned by a version that
 * learns destinations.
 *
 * Migration: a section without that entry was written before destinations were learned. Judging
 * against it would report every destination in use as new, so interpreters' destinations are not
 * judged until `baseline update` (the exporter says so once); flagged processes and shells on
 * sockets need no baseline and are judged from the first collection.
 */
export const outboundMarkerKey = 'outbound';
const keyPrefix = 'outbound ';

export const outboundEntrySchema = z
  .object({
    exe: z.string().min(1),
    protocol: z.enum(['tcp', 'udp']),
    class: z.string().min(1),
    port: z.number().int().min(0).max(65535),
  })
  .strict();

export type OutboundEntry = z.infer<typeof outboundEntrySchema>;

export interface OutboundBaseline {
  /** Whether the section was learned by a version that learns destinations (see above). */
  readonly learned: boolean;
  /** Keys of the entries (`outboundKey`). */
  readonly destinations: ReadonlySet<string>;
}

export function outboundKey(e: { exe: string; protocol: NetProtocol; class: string; port: number }): string {
  return `${keyPrefix}${e.protocol}/${e.class}/${e.port} ${e.exe}`;
}

export function isOutboundKey(key: string): boolean {
  return key === outboundMarkerKey || key.startsWith(keyPrefix);
}

/** The outbound entries of a verified section: entries of the wrong shape (or whose key does not match their content) are counted and left out. */
export function readOutboundBaseline(section: Record<string, unknown>): { baseline: OutboundBaseline; invalid: number } {
  const destinations = new Set<string>();
  let invalid = 0;
  for (const [key, value] of Object.entries(section)) {
    if (!key.startsWith(keyPrefix)) continue;
    const parsed = outboundEntrySchema.safeParse(value);
    if (parsed.success && outboundKey(parsed.data) === key) destinations.add(key);
    else invalid++;
  }
  return { baseline: { learned: outboundMarkerKey in section, destinations }, invalid };
}

/** What `baseline init` and `update` record: the marker, the destinations used now, and those learned before (connections come and go). */
export function learnOutbound(
  now: readonly OutboundEntry[],
  before: Record<string, unknown> | undefined,
): Record<string, OutboundEntry | Record<string, never>> {
  const entries: Record<string, OutboundEntry | Record<string, never>> = { [outboundMarkerKey]: {} };
  for (const [key, value] of Object.entries(before ?? {})) {
    if (!key.startsWith(keyPrefix)) continue;
    const parsed = outboundEntrySchema.safeParse(value);
    if (parsed.success && outboundKey(parsed.data) === key) entries[key] = parsed.data;
  }
  for (const e of now) entries[outboundKey(e)] = e;
  return entries;
}

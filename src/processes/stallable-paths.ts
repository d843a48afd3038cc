import { dirname } from 'node:path';
import { ownMountsIfReadable, type MountTable } from '../procfs/mounts.js';

let cached: { readonly at: number; readonly table: MountTable | undefined } | undefined;

/**
 * Whether a call on `hostPath` (or on its directory) may wait on a file system that can stall
 * (FUSE, NFS, ...): the paths processes name — script operands, mapped libraries, the files of
 * audit records — are then not touched from the event loop, and what a stat would have told stays
 * unknown. The exporter's own mount table, read again at most once a second; without one, nothing
 * is assumed to stall.
 */
export function mayStallOnHost(hostPath: string, now = Date.now()): boolean {
  if (cached === undefined || now - cached.at >= 1000 || now < cached.at) cached = { at: now, table: ownMountsIfReadable('/proc') };
  const table = cached.table;
  return table !== undefined && (table.mayStall(hostPath) || table.mayStall(dirname(hostPath)));
}

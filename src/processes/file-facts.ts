import { statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { ExecutableFacts } from './host-view.js';
import { executableFacts } from './observe.js';
import type { PackageIndex } from './package-index.js';

/**
 * Facts of a path a process names (a script operand, a mapped library, an audit record's file),
 * which anyone can make up: a path through a file (`/etc/passwd/x`), too long, or unreadable
 * gives the facts of a file that is not there rather than an error that would stop a collection.
 */
export function factsOfNamedFile(rootfs: string, path: string, deleted: boolean, index: PackageIndex): ExecutableFacts {
  try {
    return executableFacts(rootfs, path, deleted, index);
  } catch {
    return { packaged: index.owns(path), worldWritable: false, replacedAt: undefined };
  }
}

/** stat of a named path under --path.rootfs; undefined when there is none or it cannot be looked at. */
export function statNamedFile(rootfs: string, path: string): BigIntStats | undefined {
  try {
    return statSync(join(rootfs, path), { throwIfNoEntry: false, bigint: true });
  } catch {
    return undefined;
  }
}

import { statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { ExecutableFacts } from './host-view.js';
import { executableFacts } from './observe.js';
import type { PackageIndex } from './package-index.js';
import { mayStallOnHost } from './stallable-paths.js';

/**
 * Facts of a path a process names (a script operand, a mapped library, an audit record's file),
 * which anyone can make up: a path through a file (`/etc/passwd/x`), too long, or unreadable
 * gives the facts of a file that is not there rather than an error that would stop a collection.
 * A path on a file system that may stall is not stat'ed: only whether a package owns it is known.
 */
export function factsOfNamedFile(rootfs: string, path: string, deleted: boolean, index: PackageIndex): ExecutableFacts {
  try {
    if (mayStallOnHost(join(rootfs, path))) throw new Error('may stall');
    return executableFacts(rootfs, path, deleted, index);
  } catch {
    return { packaged: index.owns(path), worldWritable: false, replacedAt: undefined };
  }
}

/**
 * stat of a named path under --path.rootfs; undefined when there is none or it cannot be looked at;
 * `unknown` on a file system that may stall, which is not touched.
 */
export function statNamedFile(rootfs: string, path: string): BigIntStats | 'unknown' | undefined {
  if (mayStallOnHost(join(rootfs, path))) return 'unknown';
  try {
    return statSync(join(rootfs, path), { throwIfNoEntry: false, bigint: true });
  } catch {
    return undefined;
  }
}

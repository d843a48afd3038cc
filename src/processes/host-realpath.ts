import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { mayStallOnHost } from './stallable-paths.js';

/**
 * A host path with its symbolic links resolved under --path.rootfs, as the kernel resolves an
 * executable's: `/usr/bin/which` is `/usr/bin/which.debianutils` through /etc/alternatives. A link's
 * absolute target is taken under the host root, not the exporter's. Where a component is missing
 * or unreadable, the rest is kept as written: a deleted script keeps its name. So is the rest from
 * a component on a file system that may stall (FUSE, NFS): it is not looked at.
 */
export function hostRealPath(rootfs: string, path: string): string {
  const pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  for (let hops = 0; pending.length > 0;) {
    const component = pending.shift()!;
    if (component === '..') {
      done.pop();
      continue;
    }
    const candidate = `/${[...done, component].join('/')}`;
    let target: string | undefined;
    if (mayStallOnHost(join(rootfs, candidate))) return `/${[...done, component, ...pending].join('/')}`;
    try {
      target = lstatSync(join(rootfs, candidate)).isSymbolicLink() ? readlinkSync(join(rootfs, candidate)) : undefined;
    } catch {
      return `/${[...done, component, ...pending].join('/')}`;
    }
    if (target === undefined) {
      done.push(component);
      continue;
    }
    // A loop of links resolves nothing: keep the path as written.
    if (++hops > 40) return path;
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return `/${done.join('/')}`;
}

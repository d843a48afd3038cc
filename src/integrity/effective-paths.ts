import type { IntegrityPolicy } from '../config/sections/integrity.js';
import { accountPaths } from './account-paths.js';
import { readTopLevelLinks } from './dpkg.js';

/**
 * The paths a scan watches: the policy's, plus those that depend on the host's accounts (SSH
 * keys, start-up files), minus aliases. On a merged-/usr host /lib is a link to /usr/lib, so the
 * default's `/lib/*-linux-gnu*\/security` (for hosts that are not merged) would list the PAM
 * modules a second time under another name: a path through such a link is dropped when the policy
 * watches where it leads.
 */
export function effectiveWatchedPaths(policy: IntegrityPolicy, rootfs: string): string[] {
  const accounts = accountPaths(rootfs, { sshKeys: policy.ssh_authorized_keys, startupFiles: policy.user_startup_files });
  return withoutAliases([...new Set([...policy.paths, ...accounts])], readTopLevelLinks(rootfs));
}

/** Pure: `links` maps a top-level link to where it leads (/lib → /usr/lib). */
export function withoutAliases(paths: readonly string[], links: ReadonlyMap<string, string>): string[] {
  const listed = new Set(paths);
  return paths.filter((path) => {
    const slash = path.indexOf('/', 1);
    const target = slash === -1 ? undefined : links.get(path.slice(0, slash));
    if (target === undefined) return true;
    const canonical = target + path.slice(slash);
    // Kept unless the policy names where it leads, or an ancestor of that.
    for (let p = canonical; p.length > 1; p = p.slice(0, p.lastIndexOf('/')) || '/') if (listed.has(p)) return false;
    return true;
  });
}

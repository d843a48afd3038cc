import { compileGlob, type PathMatcher } from '../match/glob.js';
import type { Ownership } from './snapshot.js';

/**
 * The program part of a rule (`exe`, `user`): a socket satisfies it only when its owners are known
 * and every one of them matches, so a program sharing an allowed socket with sshd is not let through
 * by sshd's rule.
 */
export interface OwnerConstraint {
  readonly exe: readonly PathMatcher[] | undefined;
  readonly user: string | undefined;
}

export function compileOwnerConstraint(exe: string | readonly string[] | undefined, user: string | undefined): OwnerConstraint {
  const globs = exe === undefined ? undefined : typeof exe === 'string' ? [exe] : exe;
  return { exe: globs?.map(compileGlob), user };
}

export function constrainsOwner(c: OwnerConstraint): boolean {
  return c.exe !== undefined || c.user !== undefined;
}

/** 'yes', 'no', or 'unknown' when the rule names a program and the owner could not be found. */
export function ownerMatches(c: OwnerConstraint, ownership: Ownership): 'yes' | 'no' | 'unknown' {
  if (!constrainsOwner(c)) return 'yes';
  if (ownership.kind !== 'known') return 'unknown';
  for (const owner of ownership.owners) {
    if (c.exe && (owner.exe === undefined || !c.exe.some((m) => m(owner.exe!)))) return 'no';
    if (c.user !== undefined && c.user !== owner.user && c.user !== String(owner.uid)) return 'no';
  }
  return 'yes';
}

/** The programs holding a socket, for subjects and labels: sorted distinct paths, or what stands in for them. */
export function ownerExeText(ownership: Ownership): string {
  switch (ownership.kind) {
    case 'known':
      return [...new Set(ownership.owners.map((o) => o.exe ?? 'unknown'))].sort().join(',');
    case 'kernel':
      return 'kernel';
    default:
      return 'unknown';
  }
}

export function ownerUserText(ownership: Ownership): string {
  return ownership.kind === 'known' ? [...new Set(ownership.owners.map((o) => o.user))].sort().join(',') : 'unknown';
}

export function ownerPidsText(ownership: Ownership): string {
  return ownership.kind === 'known' ? ownership.owners.map((o) => o.pid).join(',') : '-';
}

import { containerPhrase, containerSubject, type ContainerIdentity } from '../containers/identity.js';

/**
 * The container a finding names: one a runtime's cgroup names (an id or a pod UID). A root of its
 * own without one (unshare --root, a chroot in its own namespace) is named by its mount namespace only.
 */
export function namedContainer(identity: ContainerIdentity | undefined): ContainerIdentity | undefined {
  return identity && (identity.id !== undefined || identity.podUid !== undefined) ? identity : undefined;
}

/**
 * Add the container's fields to a finding's subject; its words for the message (`, in cri-o
 * container 3f2a9c1d0b7e (web, image …)`), or '' for a process not in a named container.
 */
export function nameContainer(subject: Record<string, string>, identity: ContainerIdentity | undefined): string {
  const named = namedContainer(identity);
  if (!named) return '';
  Object.assign(subject, containerSubject(named));
  return `, in ${containerPhrase(named)}`;
}

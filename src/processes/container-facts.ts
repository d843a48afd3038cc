import type { ContainerIdentity } from '../containers/identity.js';
import type { StandardInput } from '../procfs/stdin.js';

/**
 * Where a container process's executable lives, as seen from the host:
 * - `image`: a file of the image's (lower, read-only) layers;
 * - `writable_layer`: the container's upper layer, written after it started (drift);
 * - `other_mount`: another mount than the container's root (a volume, a bind mount, a tmpfs): not judged;
 * - `not_overlayfs`: the container's root is not kernel overlayfs (rootless fuse-overlayfs, a plain
 *   directory, the btrfs, zfs or devicemapper storage drivers): not judged;
 * - `unreadable`: its mounts, its executable or the upper layer could not be read.
 */
export const executableLayers = ['image', 'writable_layer', 'other_mount', 'not_overlayfs', 'unreadable'] as const;
export type ExecutableLayer = (typeof executableLayers)[number];

/** What observation learned about one process in a container. */
export interface ContainerFacts {
  readonly identity: ContainerIdentity;
  readonly executableLayer: ExecutableLayer;
  /** What it reads its input from; `unreadable` without ptrace access. */
  readonly standardInput: StandardInput | 'unreadable';
}

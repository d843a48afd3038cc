import type { CgroupEntry } from '../procfs/cgroup.js';
import type { ContainerRuntime } from './identity.js';

/** What a process's cgroup path says about its container. */
export interface CgroupContainer {
  readonly runtime: ContainerRuntime;
  readonly id: string | undefined;
  readonly podUid: string | undefined;
}

const hexId = '([0-9a-f]{64})';

/**
 * The path segments runtimes name a container's cgroup with, by cgroup driver:
 * - systemd driver (cgroup v1 and v2): `docker-ID.scope`, `cri-containerd-ID.scope`,
 *   `crio-ID.scope`, `libpod-ID.scope`, `nerdctl-ID.scope`; the `crio-conmon-` and
 *   `libpod-conmon-` scopes hold the monitor, not the container, and do not match.
 * - cgroupfs driver: `/docker/ID`, `/libpod_parent/libpod-ID`, `crio-ID` under a pod, and a bare
 *   ID under `/kubepods/.../podUID/` (containerd and cri-dockerd) or under a containerd namespace
 *   (`/default/ID`, nerdctl).
 * - LXC: `/lxc/NAME`, `/lxc.payload.NAME`.
 */
const scopeForms: ReadonlyArray<readonly [RegExp, ContainerRuntime]> = [
  [new RegExp(`^docker-${hexId}\\.scope$`), 'docker'],
  [new RegExp(`^cri-containerd-${hexId}\\.scope$`), 'containerd'],
  [new RegExp(`^crio-${hexId}(\\.scope)?$`), 'cri-o'],
  [new RegExp(`^libpod-${hexId}(\\.scope)?$`), 'podman'],
  [new RegExp(`^nerdctl-${hexId}\\.scope$`), 'containerd'],
];

/** `pod6f3a7a2e-1b2c-…` (cgroupfs) or `kubepods-burstable-pod6f3a7a2e_1b2c_….slice` (systemd, dashes as underscores). */
const podForm =
  /^(?:kubepods-(?:besteffort-|burstable-|guaranteed-)?)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

/** The container a cgroup path names; undefined for a path of no known container form (a host service). */
export function containerOfCgroupPath(path: string): CgroupContainer | undefined {
  const segments = path.split('/');
  let podUid: string | undefined;
  let inKubepods = false;
  let found: { runtime: ContainerRuntime; id: string } | undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === 'kubepods' || segment.startsWith('kubepods.') || segment.startsWith('kubepods-')) inKubepods = true;
    const pod = inKubepods ? podForm.exec(segment) : null;
    if (pod) {
      podUid = pod[1]!.replaceAll('_', '-');
      continue;
    }
    const scoped = scopeForms.find(([form]) => form.test(segment));
    if (scoped) {
      found = { runtime: scoped[1], id: scoped[0].exec(segment)![1]! };
      continue;
    }
    if (/^[0-9a-f]{64}$/.test(segment) && i > 0) {
      const parent = segments[i - 1]!;
      const runtime: ContainerRuntime =
        parent === 'docker' ? 'docker' : parent === 'libpod_parent' ? 'podman' : podUid !== undefined ? 'unknown' : 'containerd';
      found = { runtime, id: segment };
      continue;
    }
    const lxc = i > 0 && segments[i - 1] === 'lxc' ? segment : /^lxc\.payload\.(.+)$/.exec(segment)?.[1];
    if (lxc) found = { runtime: 'lxc', id: lxc };
  }
  if (found) return { runtime: found.runtime, id: found.id, podUid };
  return podUid !== undefined ? { runtime: 'unknown', id: undefined, podUid } : undefined;
}

/**
 * The container of a process from all its cgroup lines: the unified hierarchy's (cgroup v2, and
 * the `0::` line of a hybrid host) first, then each v1 hierarchy's. Undefined when none has a
 * known form.
 */
export function containerOfCgroup(entries: readonly CgroupEntry[]): CgroupContainer | undefined {
  const ordered = [...entries].sort((a, b) => (a.hierarchy === 0 ? -1 : 0) - (b.hierarchy === 0 ? -1 : 0));
  for (const entry of ordered) {
    const container = containerOfCgroupPath(entry.path);
    if (container?.id !== undefined) return container;
  }
  for (const entry of ordered) {
    const container = containerOfCgroupPath(entry.path);
    if (container) return container;
  }
  return undefined;
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRuntime } from './identity.js';

/**
 * What a container's runtime wrote about it on the host, in runc's state (state.json): runc keeps
 * the OCI annotations the runtime passed it as `key=value` labels. The CRI runtimes annotate every
 * container with its image and Kubernetes names, so a Kubernetes node tells a container's image
 * without an API; Docker and Podman do not (Docker's image comes from its API).
 *
 * Written by the runtime as root on the host, outside every container: a process inside cannot
 * change what it says about its own container.
 */
export interface RuntimeRecord {
  /** The runtime whose state directory holds it (containerd's, Docker's, or runc's default /run/runc). */
  readonly runtime: ContainerRuntime;
  readonly image: string | undefined;
  readonly name: string | undefined;
  readonly podNamespace: string | undefined;
  readonly podName: string | undefined;
  readonly podUid: string | undefined;
}

/** Annotation keys of containerd's CRI plugin and of CRI-O, in the order they are tried. */
const keys = {
  image: ['io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.ImageName'],
  name: ['io.kubernetes.cri.container-name', 'io.kubernetes.container.name'],
  podNamespace: ['io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.pod.namespace'],
  podName: ['io.kubernetes.cri.sandbox-name', 'io.kubernetes.pod.name'],
  podUid: ['io.kubernetes.cri.sandbox-uid', 'io.kubernetes.pod.uid'],
} as const;

const annotationLimit = 1024;

/** A runc state.json's text into a record; undefined when it is not one (no config.labels list). */
export function parseRuntimeState(text: string, runtime: ContainerRuntime): RuntimeRecord | undefined {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return undefined;
  }
  const labels = (state as { config?: { labels?: unknown } } | null)?.config?.labels;
  if (!Array.isArray(labels)) return undefined;
  const annotations = new Map<string, string>();
  for (const label of labels) {
    if (typeof label !== 'string') continue;
    const equals = label.indexOf('=');
    if (equals > 0) annotations.set(label.slice(0, equals), label.slice(equals + 1, equals + 1 + annotationLimit));
  }
  const first = (names: readonly string[]) => names.map((n) => annotations.get(n)).find((v) => v !== undefined && v !== '');
  const isCrio = [...annotations.keys()].some((k) => k.startsWith('io.kubernetes.cri-o.'));
  return {
    runtime: runtime === 'unknown' && isCrio ? 'cri-o' : runtime,
    image: first(keys.image),
    name: first(keys.name),
    podNamespace: first(keys.podNamespace),
    podName: first(keys.podName),
    podUid: first(keys.podUid),
  };
}

/**
 * runc state directories, under --path.rootfs: containerd's (one per containerd namespace, k8s.io
 * on a Kubernetes node), Docker's (containerd's moby namespace), and runc's default, which CRI-O
 * and runc run by hand use.
 */
async function stateDirectories(rootfs: string): Promise<Array<{ readonly dir: string; readonly runtime: ContainerRuntime }>> {
  const containerd = join(rootfs, 'run/containerd/runc');
  let namespaces: string[] = [];
  try {
    namespaces = await readdir(containerd);
  } catch {
    // no containerd on this host
  }
  return [
    ...namespaces.filter((n) => n !== 'moby').map((n) => ({ dir: join(containerd, n), runtime: 'containerd' as const })),
    { dir: join(rootfs, 'run/docker/runtime-runc/moby'), runtime: 'docker' },
    { dir: join(rootfs, 'run/containerd/runc/moby'), runtime: 'docker' },
    { dir: join(rootfs, 'run/runc'), runtime: 'unknown' },
  ];
}

/**
 * The runtime's record of the container with this id, from the first state directory that holds
 * it; undefined when none does (crun keeps no state.json, LXC none at all) or it cannot be read.
 */
export async function readRuntimeRecord(rootfs: string, id: string): Promise<RuntimeRecord | undefined> {
  // An id is a path segment: never let one climb out of the state directory.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) return undefined;
  for (const { dir, runtime } of await stateDirectories(rootfs)) {
    let text: string;
    try {
      text = await readFile(join(dir, id, 'state.json'), 'utf8');
    } catch {
      continue;
    }
    const record = parseRuntimeState(text, runtime);
    if (record) return record;
  }
  return undefined;
}

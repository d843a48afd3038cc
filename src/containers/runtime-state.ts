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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A runc state.json's text into a record; undefined when it is not one (no config.labels list). */
export function parseRuntimeState(text: string, runtime: ContainerRuntime): RuntimeRecord | undefined {
  const labels = (parseJson(text) as { config?: { labels?: unknown } } | null | undefined)?.config?.labels;
  if (!Array.isArray(labels)) return undefined;
  const annotations = new Map<string, string>();
  for (const label of labels) {
    if (typeof label !== 'string') continue;
    const equals = label.indexOf('=');
    if (equals > 0) annotations.set(label.slice(0, equals), label.slice(equals + 1, equals + 1 + annotationLimit));
  }
  return recordOf(annotations, runtime);
}

/**
 * crun's copy of the container's OCI configuration (config.json beside its status file): its
 * `annotations` object, as the CRI runtime wrote it. undefined when it is not one.
 */
export function parseOciConfig(text: string, runtime: ContainerRuntime): RuntimeRecord | undefined {
  const annotations = (parseJson(text) as { annotations?: unknown } | null | undefined)?.annotations;
  if (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations)) return undefined;
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(annotations)) if (typeof value === 'string') map.set(key, value.slice(0, annotationLimit));
  return recordOf(map, runtime);
}

function recordOf(annotations: ReadonlyMap<string, string>, runtime: ContainerRuntime): RuntimeRecord {
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
 * it: runc's state.json, else crun's copy of the configuration (/run/crun, CRI-O's and Podman's
 * usual runtime); undefined when none does (LXC keeps neither) or it cannot be read.
 */
export async function readRuntimeRecord(rootfs: string, id: string): Promise<RuntimeRecord | undefined> {
  // An id is a path segment: never let one climb out of the state directory.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) return undefined;
  for (const { dir, runtime } of await stateDirectories(rootfs)) {
    const record = await readRecord(join(dir, id, 'state.json'), (text) => parseRuntimeState(text, runtime));
    if (record) return record;
  }
  return readRecord(join(rootfs, 'run/crun', id, 'config.json'), (text) => parseOciConfig(text, 'unknown'));
}

async function readRecord(path: string, parse: (text: string) => RuntimeRecord | undefined): Promise<RuntimeRecord | undefined> {
  try {
    return parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

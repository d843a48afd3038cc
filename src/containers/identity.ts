/**
 * Which container a process runs in, as one plain value that any finding can carry in its subject
 * (containerSubject) and name in its message (containerPhrase). Built by ContainerDirectory from
 * the process's cgroup and, where one answers, the runtime's own records.
 */

export const containerRuntimes = ['docker', 'containerd', 'cri-o', 'podman', 'lxc', 'unknown'] as const;
export type ContainerRuntime = (typeof containerRuntimes)[number];

/** Where the image (and names) came from: runc's state of the container, the Docker API, or nowhere. */
export const imageSources = ['runtime_state', 'docker_api', 'none'] as const;
export type ImageSource = (typeof imageSources)[number];

export interface ContainerIdentity {
  readonly runtime: ContainerRuntime;
  /** The runtime's container id (64 hex digits for Docker, containerd, CRI-O, Podman; a name for LXC); undefined when the cgroup has no known form. */
  readonly id: string | undefined;
  /** The Kubernetes pod UID, when the cgroup path carries one (kubepods). */
  readonly podUid: string | undefined;
  /** The image as the runtime names it (`registry.example.com/team/app:1.4`), when known. */
  readonly image: string | undefined;
  /** The container's name (Docker's name, Kubernetes' container name), when known. */
  readonly name: string | undefined;
  /** The pod's namespace and name, when the runtime's records carry them (CRI annotations). */
  readonly podNamespace: string | undefined;
  readonly podName: string | undefined;
  readonly imageSource: ImageSource;
}

/** The short id `docker ps` and `crictl ps` show. */
export function shortContainerId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}

/**
 * The container's fields of a finding's subject: what tells it apart and what an operator looks
 * it up by. Only known fields are present, so a subject never changes shape with a lookup that
 * failed once (an unknown image stays absent rather than becoming '').
 */
export function containerSubject(identity: ContainerIdentity): Record<string, string> {
  const subject: Record<string, string> = { container_runtime: identity.runtime };
  if (identity.id !== undefined) subject['container_id'] = shortContainerId(identity.id);
  if (identity.name !== undefined) subject['container'] = identity.name;
  if (identity.image !== undefined) subject['image'] = identity.image;
  if (identity.podUid !== undefined) subject['pod_uid'] = identity.podUid;
  if (identity.podNamespace !== undefined) subject['pod_namespace'] = identity.podNamespace;
  if (identity.podName !== undefined) subject['pod'] = identity.podName;
  return subject;
}

/** `container 3f2a9c1d0b7e (web, image nginx:1.25, pod 6f3a…)`, for a finding's message. */
export function containerPhrase(identity: ContainerIdentity): string {
  const what =
    identity.id !== undefined
      ? `${identity.runtime === 'unknown' ? '' : `${identity.runtime} `}container ${shortContainerId(identity.id)}`
      : 'a container';
  const details: string[] = [];
  if (identity.name !== undefined) details.push(identity.name);
  details.push(identity.image !== undefined ? `image ${identity.image}` : 'image unknown');
  if (identity.podNamespace !== undefined && identity.podName !== undefined)
    details.push(`pod ${identity.podNamespace}/${identity.podName}`);
  else if (identity.podUid !== undefined) details.push(`pod UID ${identity.podUid}`);
  return `${what} (${details.join(', ')})`;
}

/**
 * The image's repository, the bounded part of its name that a metric label may carry: no tag, no
 * digest (`registry:5000/team/app:1.4@sha256:…` → `registry:5000/team/app`). '' when unknown.
 */
export function imageRepository(image: string | undefined): string {
  if (image === undefined) return '';
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const repository = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  // An image referred to by its id alone (`sha256:…`, or 64 hex digits) has no repository.
  return /^(sha256)?$/.test(repository) || /^[0-9a-f]{64}$/.test(repository) ? '' : repository;
}

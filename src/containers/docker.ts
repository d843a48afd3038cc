import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';

/** What the Docker API says about one container. */
export interface DockerContainer {
  readonly name: string | undefined;
  readonly image: string | undefined;
  /** Kubernetes' names, when the container was started for a pod (cri-dockerd's labels). */
  readonly podNamespace: string | undefined;
  readonly podName: string | undefined;
  readonly containerName: string | undefined;
}

export interface DockerDirectoryOptions {
  /** Milliseconds between two listings when a container is missing from the last one. */
  readonly refreshMs?: number;
  readonly now?: () => number;
}

/** How systeminformation reads the Docker socket; the subset of its data we use. */
interface DockerListing {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>> | undefined;
}

/**
 * Docker's names for its containers, from the Docker API through systeminformation's
 * `dockerContainers()` (the socket at --path.rootfs's /var/run/docker.sock, or $DOCKER_SOCKET).
 * Listed again only when a container is missing from the last listing, and at most every
 * `refreshMs`: a host that starts no containers makes no requests. A host without the socket
 * makes none at all and never loads systeminformation.
 *
 * The socket is Docker's whole API: whoever may connect may start a privileged container. The
 * exporter only lists, but an operator who gives a systemd-run exporter that access (the docker
 * group) makes it root-equivalent; see docs/deployment.md.
 */
export class DockerDirectory {
  private listing = new Map<string, DockerContainer>();
  private listedAt = -Infinity;
  private listingNow: Promise<void> | undefined;
  private reportedFailure = false;
  private readonly refreshMs: number;
  private readonly now: () => number;
  readonly socketPath: string;

  constructor(
    rootfs: string,
    private readonly log: Logger,
    options: DockerDirectoryOptions = {},
  ) {
    this.socketPath = process.env['DOCKER_SOCKET'] ?? join(rootfs, 'var/run/docker.sock');
    this.refreshMs = options.refreshMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The container with this full id; undefined when Docker does not answer or does not know it. */
  async lookup(id: string): Promise<DockerContainer | undefined> {
    const known = this.listing.get(id);
    if (known || this.now() - this.listedAt < this.refreshMs) return known;
    this.listingNow ??= this.list().finally(() => (this.listingNow = undefined));
    await this.listingNow;
    return this.listing.get(id);
  }

  private async list(): Promise<void> {
    this.listedAt = this.now();
    try {
      const socket = await stat(this.socketPath);
      if (!socket.isSocket()) return;
    } catch {
      return;
    }
    const containers = await listDockerContainers(this.socketPath);
    if (containers === undefined) {
      if (!this.reportedFailure)
        this.log.warn('the Docker socket exists but did not list containers; container images are not named', { socket: this.socketPath });
      this.reportedFailure = true;
      return;
    }
    this.reportedFailure = false;
    const listing = new Map<string, DockerContainer>();
    for (const c of containers) {
      const labels = c.labels ?? {};
      listing.set(c.id, {
        name: c.name || undefined,
        image: c.image || undefined,
        podNamespace: labels['io.kubernetes.pod.namespace'],
        podName: labels['io.kubernetes.pod.name'],
        containerName: labels['io.kubernetes.container.name'],
      });
    }
    this.listing = listing;
  }
}

/**
 * systeminformation's dockerContainers(true): every container, running or not, with its name,
 * image and labels. systeminformation reads $DOCKER_SOCKET when it is first loaded, so the socket
 * is set before the import; its requests time out after $DOCKER_SOCKET_TIMEOUT ms (5 s here
 * unless set). It answers [] when the socket fails, which cannot be told from no containers: an
 * empty answer counts as a failure only when Docker's /info does not answer either.
 */
async function listDockerContainers(socketPath: string): Promise<DockerListing[] | undefined> {
  process.env['DOCKER_SOCKET'] ??= socketPath;
  process.env['DOCKER_SOCKET_TIMEOUT'] ??= '5000';
  const si = (await import('systeminformation')).default;
  const containers = await si.dockerContainers(true);
  if (containers.length > 0) return containers;
  const info = await si.dockerInfo();
  return info.id ? [] : undefined;
}

import type { Logger } from '../log/logger.js';
import type { CgroupContainer } from './cgroup-forms.js';
import { DockerDirectory, type DockerDirectoryOptions } from './docker.js';
import type { ContainerIdentity } from './identity.js';
import { readRuntimeRecord } from './runtime-state.js';

const unknownContainer: ContainerIdentity = {
  runtime: 'unknown',
  id: undefined,
  podUid: undefined,
  image: undefined,
  name: undefined,
  podNamespace: undefined,
  podName: undefined,
  imageSource: 'none',
};

/**
 * Names a container from what its cgroup says (runtime, id, pod UID), completed by the runtime's
 * records: runc's state of the container (containerd and CRI-O annotate it with the image and the
 * Kubernetes names), else the Docker API. Nothing is cached here; callers keep the identity as
 * long as the container's namespace lives.
 */
export class ContainerDirectory {
  private readonly docker: DockerDirectory;

  constructor(
    private readonly rootfs: string,
    log: Logger,
    dockerOptions: DockerDirectoryOptions = {},
  ) {
    this.docker = new DockerDirectory(rootfs, log, dockerOptions);
  }

  async identify(cgroup: CgroupContainer | undefined): Promise<ContainerIdentity> {
    if (cgroup === undefined) return unknownContainer;
    const base: ContainerIdentity = { ...unknownContainer, runtime: cgroup.runtime, id: cgroup.id, podUid: cgroup.podUid };
    if (cgroup.id === undefined || cgroup.runtime === 'lxc') return base;
    const record = await readRuntimeRecord(this.rootfs, cgroup.id);
    const runtime = cgroup.runtime === 'unknown' && record ? record.runtime : cgroup.runtime;
    if (record?.image !== undefined) {
      return {
        ...base,
        runtime,
        image: record.image,
        name: record.name,
        podUid: base.podUid ?? record.podUid,
        podNamespace: record.podNamespace,
        podName: record.podName,
        imageSource: 'runtime_state',
      };
    }
    if (runtime !== 'docker' && runtime !== 'unknown') return { ...base, runtime };
    const docker = await this.docker.lookup(cgroup.id);
    if (docker?.image === undefined) return { ...base, runtime };
    return {
      ...base,
      runtime: 'docker',
      image: docker.image,
      name: docker.containerName ?? docker.name,
      podNamespace: docker.podNamespace,
      podName: docker.podName,
      imageSource: 'docker_api',
    };
  }
}

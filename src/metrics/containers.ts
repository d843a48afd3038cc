import { metricSpec } from './spec.js';

/** Metrics of processes in containers, set by the processes collector (src/collectors/container-metrics.ts). */
export const containerMetricSpecs = {
  containers: metricSpec({
    name: 'hostguard_containers',
    type: 'gauge',
    help: "Containers (mount namespaces with another root than the host's) that had a process in the last collection, by runtime and by where their image name came from.",
    labels: {
      runtime:
        "docker, containerd, cri-o, podman, lxc (from the cgroup path's form, refined by the runtime state directory that holds the container), or unknown (a container whose cgroup has no known form, or a bare id under a Kubernetes pod found in no state directory)",
      image_source:
        "runtime_state (runc's state.json or crun's config.json of the container, annotated by containerd's CRI plugin and CRI-O), docker_api (the Docker API through systeminformation), or none (no image known: container_drift, container_package_manager and container_shell are still judged, but containers.allow rules by image do not match)",
    },
  }),
  containerProcesses: metricSpec({
    name: 'hostguard_container_processes',
    type: 'gauge',
    help: 'Userland processes in containers in the last collection, by where their executable lives.',
    labels: {
      layer:
        "image (a file of the image's read-only layers), writable_layer (the container's overlayfs upper layer: container_drift), other_mount (a volume, bind mount or tmpfs: drift not judged), not_overlayfs (the container's root is not kernel overlayfs: rootless fuse-overlayfs, a plain directory, the btrfs, zfs or devicemapper drivers: drift not judged), unreadable (its mounts, executable or upper layer could not be read: drift not judged)",
    },
    notes:
      'Above 0 for other_mount, not_overlayfs or unreadable, container_drift is blind for those processes: docs/collectors/processes.md#containers says what each means.',
  }),
  flagged: metricSpec({
    name: 'hostguard_container_process_flagged',
    type: 'gauge',
    help: 'Running processes in containers behind each current finding, by finding kind, image repository and Kubernetes pod UID.',
    labels: {
      kind: 'the finding kinds of the processes collector judged in containers: container_drift, container_package_manager, container_shell, writable_location, name_mismatch',
      image:
        'the image\'s repository (registry/path/name, never its tag, digest or id); "" when unknown. One series per flagged repository, capped by --metrics.max-finding-series',
      pod_uid:
        'the Kubernetes pod UID from the cgroup path, for a join with kube-state-metrics\' kube_pod_info{uid} (recording rule hostguard:container_process_flagged:kube_pod); "" outside Kubernetes. Only flagged pods have a series, capped with the rest',
    },
    notes:
      "Container ids, names and the pod's namespace and name are in the finding's subject (container_id, container, image, pod_uid, pod_namespace, pod), never labels.",
  }),
} as const;

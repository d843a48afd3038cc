/** Where the host is: node_exporter's --path.procfs / --path.rootfs, plus our state directory. */
export interface HostPaths {
  readonly procfs: string;
  readonly rootfs: string;
  readonly stateDir: string;
}

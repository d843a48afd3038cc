import {
  capabilityBits,
  capabilityMask,
  capabilityNames,
  type CapabilityName,
  type CapabilitySets,
} from '../../src/procfs/capabilities.js';

/**
 * How container runtimes start a container's first process, as pure functions: from what the user
 * wrote (a Kubernetes securityContext, a `docker run` line, the image's USER) to the OCI process
 * the runtime hands runc, to the credentials the kernel leaves the program with after runc's
 * execve. Tests start the real exporter in that state with setpriv and check that the kernel
 * agrees with the prediction (/proc/PID/status), so the translation cannot drift from reality
 * unnoticed.
 *
 * Sources of the rules, and the versions they hold for:
 * - containerd's CRI plugin and CRI-O: start from the runtime's default set; `add: [ALL]` gives
 *   every capability, `drop: [ALL]` (applied after it) none; then the named adds, then the named
 *   drops. Bounding, permitted and effective get the result for every uid; inheritable is empty
 *   (since containerd 1.6.2 and CRI-O 1.23.2, CVE-2022-24769); ambient is always empty
 *   (containerd/cri#808, cri-o/cri-o#1539; adding it was declined: containerd/containerd#5668,
 *   cri-o/cri-o#5043, kubernetes/kubernetes#56374).
 * - Docker (moby TweakCapabilities): `--cap-add=ALL` wins, else `--cap-drop=ALL` leaves only the
 *   adds, else defaults minus drops plus adds; for a non-root user permitted and effective are
 *   emptied before the exec (moby/moby#36587); no ambient (moby/moby#26979, reverted in 1.13 by
 *   moby/moby#27737).
 * - The kernel at execve of a file without file capabilities, not set-uid (capabilities(7)): for
 *   uid 0 the file's sets count as full, so permitted = inheritable | bounding | ambient and
 *   effective = permitted; for any other uid permitted = effective = ambient. With no_new_privs,
 *   permitted cannot grow beyond the permitted set before the exec. Bounding and inheritable are
 *   kept; runc raises an ambient capability only when it is permitted and inheritable.
 */

/** What the user asked the runtime for. */
export interface ContainerRequest {
  readonly uid: number;
  readonly gid: number;
  readonly supplementaryGroups: readonly number[];
  /** As written: `SYS_PTRACE`, `CAP_SYS_PTRACE`, `ALL`. */
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly privileged: boolean;
  readonly noNewPrivileges: boolean;
  readonly readOnlyRootFilesystem: boolean;
}

export type Runtime = 'containerd' | 'cri-o' | 'docker';

/** The capabilities a container gets when nothing is added or dropped. */
export const defaultCapabilities: Record<Runtime, readonly CapabilityName[]> = {
  // containerd's defaultUnixCaps and moby's DefaultCapabilities are the same 14.
  containerd: [
    'cap_chown',
    'cap_dac_override',
    'cap_fsetid',
    'cap_fowner',
    'cap_mknod',
    'cap_net_raw',
    'cap_setgid',
    'cap_setuid',
    'cap_setfcap',
    'cap_setpcap',
    'cap_net_bind_service',
    'cap_sys_chroot',
    'cap_kill',
    'cap_audit_write',
  ],
  docker: [
    'cap_chown',
    'cap_dac_override',
    'cap_fsetid',
    'cap_fowner',
    'cap_mknod',
    'cap_net_raw',
    'cap_setgid',
    'cap_setuid',
    'cap_setfcap',
    'cap_setpcap',
    'cap_net_bind_service',
    'cap_sys_chroot',
    'cap_kill',
    'cap_audit_write',
  ],
  // CRI-O's default_capabilities since 1.18.
  'cri-o': [
    'cap_chown',
    'cap_dac_override',
    'cap_fsetid',
    'cap_fowner',
    'cap_setgid',
    'cap_setuid',
    'cap_setpcap',
    'cap_net_bind_service',
    'cap_kill',
  ],
};

const allCapabilities = Object.keys(capabilityBits) as CapabilityName[];

/** `SYS_PTRACE` / `CAP_SYS_PTRACE` / `sys_ptrace` → `cap_sys_ptrace`; `ALL` stays `all`. */
export function capabilityName(written: string): CapabilityName | 'all' {
  const lower = written.toLowerCase();
  if (lower === 'all') return 'all';
  const name = lower.startsWith('cap_') ? lower : `cap_${lower}`;
  if (!(name in capabilityBits)) throw new Error(`unknown capability ${written}`);
  return name as CapabilityName;
}

/** The capability list the runtime computes from its defaults and the user's adds and drops. */
export function containerCapabilities(request: ContainerRequest, runtime: Runtime): CapabilityName[] {
  if (request.privileged) return [...allCapabilities];
  const adds = request.capAdd.map(capabilityName);
  const drops = request.capDrop.map(capabilityName);
  const named = (list: Array<CapabilityName | 'all'>) => list.filter((c): c is CapabilityName => c !== 'all');
  let caps: CapabilityName[];
  if (runtime === 'docker') {
    if (adds.includes('all')) caps = allCapabilities.filter((c) => !drops.includes(c));
    else if (drops.includes('all')) caps = named(adds);
    else caps = [...defaultCapabilities.docker.filter((c) => !drops.includes(c)), ...named(adds)];
  } else {
    caps = [...defaultCapabilities[runtime]];
    if (adds.includes('all')) caps = [...allCapabilities];
    if (drops.includes('all')) caps = [];
    caps = [...caps, ...named(adds)].filter((c) => !drops.includes(c));
  }
  return allCapabilities.filter((c) => caps.includes(c));
}

/** The `process` part of the OCI runtime config the runtime hands runc. */
export interface OciProcess {
  readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[] };
  readonly capabilities: Readonly<Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', readonly CapabilityName[]>>;
  readonly noNewPrivileges: boolean;
}

export function ociProcess(request: ContainerRequest, runtime: Runtime): OciProcess {
  const caps = containerCapabilities(request, runtime);
  const emptiedForNonRoot = runtime === 'docker' && request.uid !== 0;
  return {
    user: { uid: request.uid, gid: request.gid, additionalGids: request.supplementaryGroups },
    capabilities: {
      bounding: caps,
      effective: emptiedForNonRoot ? [] : caps,
      permitted: emptiedForNonRoot ? [] : caps,
      inheritable: [],
      ambient: [],
    },
    noNewPrivileges: request.noNewPrivileges,
  };
}

/** The credentials of the container's program once runc has exec'ed it. */
export interface ProcessState {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  readonly capabilities: CapabilitySets;
  readonly noNewPrivileges: boolean;
}

export function stateAfterExec(oci: OciProcess): ProcessState {
  const mask = (set: keyof OciProcess['capabilities']) => capabilityMask(oci.capabilities[set]);
  const bounding = mask('bounding');
  const inheritable = mask('inheritable');
  const permittedBefore = mask('permitted');
  const ambient = mask('ambient') & permittedBefore & inheritable;
  let permitted = oci.user.uid === 0 ? inheritable | bounding | ambient : ambient;
  if (oci.noNewPrivileges) permitted &= permittedBefore | ambient;
  return {
    uid: oci.user.uid,
    gid: oci.user.gid,
    groups: oci.user.additionalGids,
    capabilities: { inheritable, permitted, effective: permitted, bounding, ambient },
    noNewPrivileges: oci.noNewPrivileges,
  };
}

/** setpriv(1) arguments that put the program it runs in this state (run them as root). */
export function setprivArgs(state: ProcessState): string[] {
  const set = (mask: bigint) => ['-all', ...capabilityNames(mask).map((c) => `+${c.replace(/^cap_/, '')}`)].join(',');
  return [
    `--reuid=${state.uid}`,
    `--regid=${state.gid}`,
    state.groups.length > 0 ? `--groups=${state.groups.join(',')}` : '--clear-groups',
    `--bounding-set=${set(state.capabilities.bounding)}`,
    `--inh-caps=${set(state.capabilities.inheritable)}`,
    `--ambient-caps=${set(state.capabilities.ambient)}`,
    ...(state.noNewPrivileges ? ['--no-new-privs'] : []),
  ];
}

// ---- what the user wrote -------------------------------------------------------------------------

/** The user an image runs as (its USER instruction), numeric. */
export interface ImageUser {
  readonly uid: number;
  readonly gid: number;
}

function numericUser(text: string, where: string): ImageUser {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match)
    throw new Error(
      `${where}: user "${text}" is not uid:gid in numbers (a name or a lone uid needs the image's /etc/passwd, which this translation does not read)`,
    );
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

/** The final stage's last USER of a Dockerfile; root when there is none. */
export function dockerfileUser(dockerfile: string): ImageUser {
  const lines = dockerfile.split('\n');
  const finalStage = lines.slice(lines.findLastIndex((l) => /^FROM\s/i.test(l)));
  const users = finalStage.flatMap((l) => /^USER\s+(\S+)\s*$/i.exec(l)?.[1] ?? []);
  return users.length > 0 ? numericUser(users.at(-1)!, 'Dockerfile USER') : { uid: 0, gid: 0 };
}

/** The final stage's ENTRYPOINT, exec form. */
export function dockerfileEntrypoint(dockerfile: string): string[] {
  const match = /^ENTRYPOINT (\[.+\])$/m.exec(dockerfile);
  if (!match) throw new Error('Dockerfile: no ENTRYPOINT in exec form');
  return JSON.parse(match[1]!) as string[];
}

export interface SecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsNonRoot?: boolean;
  readonly readOnlyRootFilesystem?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly privileged?: boolean;
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
  readonly seccompProfile?: { readonly type: string };
}

export interface PodSecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsNonRoot?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly fsGroup?: number;
}

// seccompProfile is accepted but not applied by the tests (setpriv sets credentials only); the
// others would change the credentials and are refused rather than silently left out.
const containerKeys = new Set([
  'runAsUser',
  'runAsGroup',
  'runAsNonRoot',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'privileged',
  'capabilities',
  'seccompProfile',
]);
const podKeys = new Set(['runAsUser', 'runAsGroup', 'runAsNonRoot', 'supplementalGroups', 'fsGroup', 'seccompProfile']);

function refuseUnknown(context: object, known: Set<string>, where: string): void {
  const unknown = Object.keys(context).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`${where}: ${unknown.join(', ')} not translated (extend test/helpers/container-runtime.ts)`);
}

/** A Kubernetes container's request, as the kubelet passes it to the CRI runtime. */
export function kubernetesRequest(container: SecurityContext = {}, pod: PodSecurityContext = {}, image: ImageUser): ContainerRequest {
  refuseUnknown(container, containerKeys, 'container securityContext');
  refuseUnknown(pod, podKeys, 'pod securityContext');
  const runAsUser = container.runAsUser ?? pod.runAsUser;
  const runAsGroup = container.runAsGroup ?? pod.runAsGroup;
  const uid = runAsUser ?? image.uid;
  if (runAsGroup === undefined && uid !== image.uid) {
    throw new Error(
      "runAsUser without runAsGroup: the group would come from the image's /etc/passwd, which this translation does not read",
    );
  }
  const gid = runAsGroup ?? image.gid;
  // The kubelet refuses to start such a container (CreateContainerConfigError).
  if ((container.runAsNonRoot ?? pod.runAsNonRoot) === true && uid === 0)
    throw new Error('runAsNonRoot is true but the container would run as uid 0: the kubelet refuses to start it');
  if (container.privileged === true && container.allowPrivilegeEscalation === false)
    throw new Error('privileged with allowPrivilegeEscalation: false is rejected by the API server');
  return {
    uid,
    gid,
    supplementaryGroups: [...(pod.supplementalGroups ?? []), ...(pod.fsGroup === undefined ? [] : [pod.fsGroup])],
    capAdd: container.capabilities?.add ?? [],
    capDrop: container.capabilities?.drop ?? [],
    privileged: container.privileged ?? false,
    // The kubelet sets no_new_privs only when allowPrivilegeEscalation is false.
    noNewPrivileges: container.allowPrivilegeEscalation === false,
    readOnlyRootFilesystem: container.readOnlyRootFilesystem ?? false,
  };
}

/** The `docker run …` command lines of a text (a Dockerfile's comments, a README), as argv after `docker run`. */
export function documentedDockerRuns(text: string): string[][] {
  const runs: string[][] = [];
  const lines = text.split('\n').map((l) => l.replace(/^#\s?/, '').trim());
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('docker run ')) continue;
    let command = lines[i]!;
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1).trim()} ${lines[++i]!}`;
    if (/["'`$]/.test(command)) throw new Error(`quoting or expansion in a documented docker run line is not parsed: ${command}`);
    runs.push(command.split(/\s+/).slice(2));
  }
  return runs;
}

export interface DockerRun {
  readonly request: ContainerRequest;
  readonly image: string;
  /** Arguments after the image: appended to its ENTRYPOINT. */
  readonly args: readonly string[];
  readonly pidHost: boolean;
  readonly netHost: boolean;
  /** `-v source:target[:options]`. */
  readonly volumes: ReadonlyArray<{ readonly source: string; readonly target: string; readonly options: readonly string[] }>;
}

const valueFlags = new Set([
  '--name',
  '--pid',
  '--net',
  '--network',
  '--user',
  '-u',
  '--cap-add',
  '--cap-drop',
  '--security-opt',
  '-v',
  '--volume',
]);
const booleanFlags = new Set(['-d', '--detach', '--rm', '--read-only', '--privileged']);

/** `docker run` arguments as dockerd turns them into a container, for an image that runs as `image`. */
export function dockerRunRequest(argv: readonly string[], imageUser: ImageUser): DockerRun {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (booleanFlags.has(flag)) flags.add(flag);
    else if (valueFlags.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`docker run ${flag} needs a value`);
      values.set(flag, [...(values.get(flag) ?? []), value]);
    } else throw new Error(`docker run ${flag} is not translated (extend test/helpers/container-runtime.ts)`);
  }
  const image = argv[i];
  if (image === undefined) throw new Error('docker run line names no image');
  const all = (...names: string[]) => names.flatMap((n) => values.get(n) ?? []);
  const user = all('--user', '-u').at(-1);
  const securityOptions = all('--security-opt');
  const unknownOption = securityOptions.find((o) => !/^no-new-privileges(:true|=true)?$/.test(o));
  if (unknownOption) throw new Error(`docker run --security-opt ${unknownOption} is not translated`);
  const { uid, gid } = user === undefined ? imageUser : numericUser(user, 'docker run --user');
  return {
    request: {
      uid,
      gid,
      supplementaryGroups: [],
      capAdd: all('--cap-add'),
      capDrop: all('--cap-drop'),
      privileged: flags.has('--privileged'),
      noNewPrivileges: securityOptions.length > 0,
      readOnlyRootFilesystem: flags.has('--read-only'),
    },
    image,
    args: argv.slice(i + 1),
    pidHost: all('--pid').at(-1) === 'host',
    netHost: ['host'].includes(all('--net', '--network').at(-1) ?? ''),
    volumes: all('-v', '--volume').map((v) => {
      const [source, target, options] = v.split(':');
      if (!source || !target) throw new Error(`docker run -v ${v}: expected source:target[:options]`);
      return { source, target, options: options ? options.split(',') : [] };
    }),
  };
}

import { describe, expect, it } from 'vitest';
import { capabilityMask, capabilityNames } from '../../src/procfs/capabilities.js';
import {
  containerCapabilities,
  dockerfileUser,
  dockerRunRequest,
  documentedDockerRuns,
  kubernetesRequest,
  ociProcess,
  setprivArgs,
  stateAfterExec,
  type ContainerRequest,
  type OciProcess,
} from '../helpers/container-runtime.js';

const request = (overrides: Partial<ContainerRequest>): ContainerRequest => ({
  uid: 0,
  gid: 0,
  supplementaryGroups: [],
  capAdd: [],
  capDrop: [],
  privileged: false,
  noNewPrivileges: false,
  readOnlyRootFilesystem: false,
  ...overrides,
});

const names = (mask: bigint) => capabilityNames(mask);

describe('the capability list a runtime computes from defaults, adds and drops', () => {
  it('drop ALL leaves only the named adds, in every runtime', () => {
    for (const runtime of ['containerd', 'cri-o', 'docker'] as const) {
      expect(containerCapabilities(request({ capDrop: ['ALL'], capAdd: ['SYS_PTRACE', 'CAP_DAC_READ_SEARCH'] }), runtime)).toEqual([
        'cap_dac_read_search',
        'cap_sys_ptrace',
      ]);
    }
  });

  it('with nothing added or dropped, each runtime gives its own default set', () => {
    expect(containerCapabilities(request({}), 'containerd')).toHaveLength(14);
    expect(containerCapabilities(request({}), 'docker')).toEqual(containerCapabilities(request({}), 'containerd'));
    expect(containerCapabilities(request({}), 'cri-o')).toEqual([
      'cap_chown',
      'cap_dac_override',
      'cap_fowner',
      'cap_fsetid',
      'cap_kill',
      'cap_setgid',
      'cap_setuid',
      'cap_setpcap',
      'cap_net_bind_service',
    ]);
  });

  it('containerd applies drop ALL after add ALL and named drops after named adds; Docker lets adds win', () => {
    const both = request({ capAdd: ['ALL'], capDrop: ['ALL'] });
    expect(containerCapabilities(both, 'containerd')).toEqual([]);
    expect(containerCapabilities(both, 'docker')).toHaveLength(41);
    const sameCap = request({ capAdd: ['CHOWN'], capDrop: ['CHOWN'] });
    expect(containerCapabilities(sameCap, 'containerd')).not.toContain('cap_chown');
    expect(containerCapabilities(sameCap, 'docker')).toContain('cap_chown');
  });

  it('a privileged container gets every capability; an unknown name is an error', () => {
    expect(containerCapabilities(request({ privileged: true, capDrop: ['ALL'] }), 'containerd')).toHaveLength(41);
    expect(() => containerCapabilities(request({ capAdd: ['SYS_PTRAC'] }), 'containerd')).toThrow('unknown capability SYS_PTRAC');
  });
});

describe('the credentials the container program is left with after exec', () => {
  const added = ['SYS_PTRACE', 'DAC_READ_SEARCH'];

  it('as a non-root user, added capabilities stay in the bounding set only: nothing is in effect (kubernetes/kubernetes#56374)', () => {
    for (const runtime of ['containerd', 'cri-o', 'docker'] as const) {
      const state = stateAfterExec(
        ociProcess(request({ uid: 65534, gid: 65534, capDrop: ['ALL'], capAdd: added, noNewPrivileges: true }), runtime),
      );
      expect(names(state.capabilities.bounding)).toEqual(['cap_dac_read_search', 'cap_sys_ptrace']);
      expect([
        state.capabilities.effective,
        state.capabilities.permitted,
        state.capabilities.ambient,
        state.capabilities.inheritable,
      ]).toEqual([0n, 0n, 0n, 0n]);
      expect(state.noNewPrivileges).toBe(true);
    }
  });

  it('as uid 0, permitted and effective are the bounding set: exactly the added capabilities', () => {
    const state = stateAfterExec(ociProcess(request({ capDrop: ['ALL'], capAdd: added, noNewPrivileges: true }), 'containerd'));
    expect(names(state.capabilities.effective)).toEqual(['cap_dac_read_search', 'cap_sys_ptrace']);
    expect(state.capabilities.permitted).toBe(state.capabilities.bounding);
    expect(state.capabilities.ambient).toBe(0n);
  });

  it('Docker empties permitted and effective before the exec for a non-root user (moby/moby#36587)', () => {
    const oci = ociProcess(request({ uid: 1000, gid: 1000, capAdd: added }), 'docker');
    expect(oci.capabilities.permitted).toEqual([]);
    expect(oci.capabilities.bounding).toContain('cap_sys_ptrace');
    expect(ociProcess(request({ uid: 1000, gid: 1000, capAdd: added }), 'containerd').capabilities.permitted).toContain('cap_sys_ptrace');
  });

  const oci = (capabilities: Partial<OciProcess['capabilities']>, uid: number, noNewPrivileges = false): OciProcess => ({
    user: { uid, gid: uid, additionalGids: [] },
    capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [], ...capabilities },
    noNewPrivileges,
  });

  it('ambient capabilities, what systemd sets, reach a non-root program; runc raises only permitted and inheritable ones', () => {
    const ptrace = ['cap_sys_ptrace'] as const;
    const full = stateAfterExec(oci({ bounding: ptrace, permitted: ptrace, inheritable: ptrace, ambient: ptrace }, 65534));
    expect(names(full.capabilities.effective)).toEqual(['cap_sys_ptrace']);
    const notInheritable = stateAfterExec(oci({ bounding: ptrace, permitted: ptrace, ambient: ptrace }, 65534));
    expect(notInheritable.capabilities.effective).toBe(0n);
  });

  it('with no_new_privs, root cannot gain at exec what was not permitted before it', () => {
    const state = stateAfterExec(oci({ bounding: ['cap_sys_ptrace', 'cap_chown'], permitted: ['cap_sys_ptrace'] }, 0, true));
    expect(names(state.capabilities.effective)).toEqual(['cap_sys_ptrace']);
    const without = stateAfterExec(oci({ bounding: ['cap_sys_ptrace', 'cap_chown'], permitted: ['cap_sys_ptrace'] }, 0, false));
    expect(names(without.capabilities.effective)).toEqual(['cap_chown', 'cap_sys_ptrace']);
  });

  it('setpriv arguments name the uid, groups, the three sets the exec keeps, and no_new_privs', () => {
    const state = stateAfterExec(
      ociProcess(request({ capDrop: ['ALL'], capAdd: added, noNewPrivileges: true, supplementaryGroups: [4] }), 'containerd'),
    );
    expect(setprivArgs(state)).toEqual([
      '--reuid=0',
      '--regid=0',
      '--groups=4',
      '--bounding-set=-all,+dac_read_search,+sys_ptrace',
      '--inh-caps=-all',
      '--ambient-caps=-all',
      '--no-new-privs',
    ]);
    expect(capabilityMask(['cap_sys_ptrace'])).toBe(1n << 19n);
  });
});

describe('Kubernetes securityContext as the kubelet passes it on', () => {
  const image = { uid: 65534, gid: 65534 };

  it('the container overrides the pod, which overrides the image', () => {
    expect(kubernetesRequest({}, {}, image)).toMatchObject({ uid: 65534, gid: 65534, noNewPrivileges: false });
    expect(kubernetesRequest({}, { runAsUser: 1000, runAsGroup: 1000 }, image)).toMatchObject({ uid: 1000, gid: 1000 });
    expect(
      kubernetesRequest({ runAsUser: 0, runAsGroup: 0 }, { runAsUser: 1000, runAsGroup: 1000, supplementalGroups: [5], fsGroup: 7 }, image),
    ).toMatchObject({ uid: 0, gid: 0, supplementaryGroups: [5, 7] });
  });

  it('no_new_privs only when allowPrivilegeEscalation is false; capabilities and the read-only root as written', () => {
    const r = kubernetesRequest(
      { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] } },
      {},
      image,
    );
    expect(r).toMatchObject({ noNewPrivileges: true, readOnlyRootFilesystem: true, capDrop: ['ALL'], capAdd: ['SYS_PTRACE'] });
  });

  it('refuses what the kubelet refuses, and what it cannot translate', () => {
    expect(() => kubernetesRequest({ runAsUser: 0, runAsGroup: 0, runAsNonRoot: true }, {}, image)).toThrow('kubelet refuses');
    expect(() => kubernetesRequest({}, { runAsNonRoot: true }, { uid: 0, gid: 0 })).toThrow('kubelet refuses');
    expect(() => kubernetesRequest({ runAsUser: 1000 }, {}, image)).toThrow('runAsGroup');
    expect(() => kubernetesRequest({ appArmorProfile: { type: 'Unconfined' } } as never, {}, image)).toThrow(
      'appArmorProfile not translated',
    );
  });
});

describe('the image and docker run', () => {
  it("reads the final stage's USER, root without one, and refuses a user name", () => {
    expect(dockerfileUser('FROM a AS build\nUSER 1:1\nFROM b\nRUN x\nUSER 0:0\n')).toEqual({ uid: 0, gid: 0 });
    expect(dockerfileUser('FROM a AS build\nUSER 1:1\nFROM b\n')).toEqual({ uid: 0, gid: 0 });
    expect(dockerfileUser('FROM b\nUSER 65534:65534\n')).toEqual({ uid: 65534, gid: 65534 });
    expect(() => dockerfileUser('FROM b\nUSER nobody\n')).toThrow('not uid:gid');
  });

  it('finds a documented docker run line across comment continuations', () => {
    const text =
      '# Run:\n#\n#   docker run -d --pid=host \\\n#     --cap-drop=ALL --cap-add SYS_PTRACE \\\n#     img --flag=x\n#\n# more\n';
    expect(documentedDockerRuns(text)).toEqual([['-d', '--pid=host', '--cap-drop=ALL', '--cap-add', 'SYS_PTRACE', 'img', '--flag=x']]);
    expect(() => documentedDockerRuns('docker run -e "A=b" img\n')).toThrow('quoting');
  });

  it('turns docker run flags into a request, the image user unless --user', () => {
    const argv = [
      '-d',
      '--name',
      'g',
      '--pid=host',
      '--net=host',
      '--read-only',
      '--security-opt=no-new-privileges',
      '-v',
      '/:/host:ro,rslave',
      '--cap-drop=ALL',
      '--cap-add=SYS_PTRACE',
      'img',
      '--a=1',
    ];
    const run = dockerRunRequest(argv, { uid: 0, gid: 0 });
    expect(run).toMatchObject({
      image: 'img',
      args: ['--a=1'],
      pidHost: true,
      netHost: true,
      volumes: [{ source: '/', target: '/host', options: ['ro', 'rslave'] }],
    });
    expect(run.request).toMatchObject({
      uid: 0,
      gid: 0,
      capDrop: ['ALL'],
      capAdd: ['SYS_PTRACE'],
      noNewPrivileges: true,
      readOnlyRootFilesystem: true,
    });
    expect(dockerRunRequest(['--user=65534:65534', 'img'], { uid: 0, gid: 0 }).request).toMatchObject({
      uid: 65534,
      noNewPrivileges: false,
      readOnlyRootFilesystem: false,
    });
    expect(() => dockerRunRequest(['--userns=host', 'img'], { uid: 0, gid: 0 })).toThrow('--userns is not translated');
    expect(() => dockerRunRequest(['--security-opt=apparmor=unconfined', 'img'], { uid: 0, gid: 0 })).toThrow('not translated');
  });
});

import { describe, expect, it } from 'vitest';
import type { FileState } from '../../src/integrity/file-state.js';
import { judgePrivileged, type PrivilegedEntry } from '../../src/integrity/judge-privileged.js';
import { mountsToSearch, parseMountinfo } from '../../src/integrity/mounts.js';
import type { PrivilegedFile } from '../../src/integrity/privileged-protocol.js';
import { judgeKernel, kernelBaselineOf, learnKernel, taintFlags, type KernelSnapshot } from '../../src/kernel/judge.js';
import { parseModules, parseTainted } from '../../src/procfs/kernel.js';

const mountinfo = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '23 22 0:21 / /proc rw,nosuid - proc proc rw',
  '24 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=4k',
  '25 24 0:22 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw',
  '26 22 254:0 /srv/data /mnt/data rw - ext4 /dev/vda rw',
  '27 22 0:40 / /mnt/nfs rw - nfs4 server:/export rw',
  '28 22 0:41 / /tmp/stall\\040fs rw - fuse StallFs rw',
  '29 22 254:16 / /home rw - xfs /dev/vdb rw',
  '30 22 7:0 / /snap/core/1 ro - squashfs /dev/loop0 ro',
  '31 24 0:23 / /dev/shm rw - tmpfs tmpfs rw',
  'garbage line',
].join('\n');

describe('which file systems the privileged-file search walks', () => {
  it('parses mountinfo with escaped mount points and skips what is not a mount', () => {
    const mounts = parseMountinfo(mountinfo);
    expect(mounts).toHaveLength(10);
    expect(mounts.find((m) => m.fsType === 'fuse')?.mountPoint).toBe('/tmp/stall fs');
  });

  it('walks local disk and memory file systems once each: no network, FUSE, pseudo or read-only images, no bind mount of a walked one', () => {
    expect(mountsToSearch(parseMountinfo(mountinfo)).map((m) => m.mountPoint)).toEqual(['/', '/dev', '/home', '/dev/shm']);
  });
});

const state = (over: Partial<FileState> = {}): FileState => ({
  type: 'file',
  mode: 0o4755,
  uid: 0,
  gid: 0,
  size: 100,
  inode: '1',
  mtimeNs: '1',
  ctimeNs: '1',
  sha256: 'a'.repeat(64),
  md5: 'b'.repeat(32),
  ...over,
});
const priv = (path: string, over: Partial<FileState> = {}, capability?: string): PrivilegedFile => ({
  path,
  state: state(over),
  ...(capability && { capability }),
});

describe('privileged-file judgment', () => {
  const baseline = new Map<string, PrivilegedEntry>([
    ['/usr/bin/passwd', { mode: 0o4755, uid: 0, gid: 0, sha256: 'a'.repeat(64) }],
    ['/usr/lib/openssh/ssh-keysign', { mode: 0o4755, uid: 0, gid: 0, sha256: 'a'.repeat(64) }],
    ['/usr/bin/ping', { mode: 0o755, uid: 0, gid: 0, sha256: 'a'.repeat(64), capability: 'cap_net_raw=ep' }],
  ]);
  const packages = {
    checksumOf: (path: string) =>
      path === '/usr/lib/openssh/ssh-keysign' ? { md5: 'c'.repeat(32), package: 'openssh-client', key: 'openssh-client:amd64' } : undefined,
  };
  const judge = (files: PrivilegedFile[], watched = (_: string) => false, withBaseline = true) =>
    judgePrivileged({ files, baseline: withBaseline ? (p) => baseline.get(p) : undefined, packages, watched }).map((f) => [
      f.kind,
      f.subject,
      f.severity,
    ]);

  it('reports a setuid shell in /tmp and a capability added to an interpreter, critical', () => {
    expect(judge([priv('/tmp/.x/bash'), priv('/home/alice/python3', { mode: 0o755 }, 'cap_setuid=ep')])).toEqual([
      ['privileged_file_added', { path: '/tmp/.x/bash', attribute: 'setuid' }, 'critical'],
      ['privileged_file_added', { path: '/home/alice/python3', attribute: 'capability' }, 'critical'],
    ]);
  });

  it('is quiet on the baseline, reports what changed outside watched paths, and accepts new content from the package', () => {
    expect(judge([priv('/usr/bin/passwd'), priv('/usr/bin/ping', { mode: 0o755 }, 'cap_net_raw=ep')])).toEqual([]);
    expect(judge([priv('/usr/lib/openssh/ssh-keysign', { sha256: 'd'.repeat(64), uid: 1000 })])).toEqual([
      ['privileged_file_changed', { path: '/usr/lib/openssh/ssh-keysign', attribute: 'content' }, 'critical'],
      ['privileged_file_changed', { path: '/usr/lib/openssh/ssh-keysign', attribute: 'owner' }, 'critical'],
    ]);
    expect(judge([priv('/usr/lib/openssh/ssh-keysign', { sha256: 'd'.repeat(64), md5: 'c'.repeat(32) })])).toEqual([]);
    expect(judge([priv('/usr/bin/ping', { mode: 0o755 }, 'cap_sys_admin=ep')])).toEqual([
      ['privileged_file_changed', { path: '/usr/bin/ping', attribute: 'capability' }, 'critical'],
    ]);
  });

  it('leaves setuid and setgid under watched paths to the watch, but not capabilities', () => {
    const watched = (p: string) => p.startsWith('/usr/local/bin/');
    expect(judge([priv('/usr/local/bin/bash', { mode: 0o6755 }, 'cap_net_admin=ep')], watched)).toEqual([
      ['privileged_file_added', { path: '/usr/local/bin/bash', attribute: 'capability' }, 'critical'],
    ]);
  });

  it('without a baseline, accepts what its package installed and reports the rest', () => {
    expect(
      judge([priv('/usr/lib/openssh/ssh-keysign', { md5: 'c'.repeat(32) }), priv('/tmp/x', { mode: 0o2755 })], undefined, false),
    ).toEqual([['privileged_file_added', { path: '/tmp/x', attribute: 'setgid' }, 'critical']]);
  });
});

describe('the running kernel', () => {
  it('parses /proc/modules and the taint mask', () => {
    const modules = parseModules(
      'nf_tables 233472 0 - Live 0xffffffffc0a00000\ndiamorphine 16384 0 - Live 0xffffffffc0900000 (OE)\nbad line\n',
    );
    expect(modules).toEqual([
      { name: 'nf_tables', size: 233472, taint: '' },
      { name: 'diamorphine', size: 16384, taint: 'OE' },
    ]);
    expect(parseTainted('12288\n')).toBe(12288);
    expect(parseTainted('x')).toBeUndefined();
    expect(taintFlags(12288 + 512)).toBe('WOE');
  });

  const before: KernelSnapshot = {
    modules: [{ name: 'nf_tables', size: 1, taint: '' }],
    tainted: 512,
    sysctls: new Map([
      ['kernel.randomize_va_space', '2'],
      ['kernel.yama.ptrace_scope', undefined],
    ]),
  };

  it('finds nothing against its own baseline, and judges nothing without one', () => {
    const baseline = kernelBaselineOf(learnKernel(before));
    expect(judgeKernel(before, baseline)).toEqual([]);
    expect(judgeKernel({ ...before, tainted: 4096 }, undefined)).toEqual([]);
  });

  it('reports a module loaded since, module taint gained since (not a warning flag), and sysctls changed or gone', () => {
    const baseline = kernelBaselineOf(learnKernel(before));
    const now: KernelSnapshot = {
      modules: [...before.modules!, { name: 'diamorphine', size: 16384, taint: 'OE' }],
      tainted: 512 + 4096 + 8192 + 16384,
      sysctls: new Map([
        ['kernel.randomize_va_space', '0'],
        ['kernel.yama.ptrace_scope', undefined],
        ['kernel.kptr_restrict', '0'],
      ]),
    };
    expect(judgeKernel(now, baseline).map((f) => [f.kind, f.subject, f.severity])).toEqual([
      ['module_loaded', { module: 'diamorphine' }, 'warning'],
      ['kernel_tainted', { flags: 'OE' }, 'critical'],
      ['sysctl_changed', { name: 'kernel.randomize_va_space' }, 'warning'],
    ]);
    expect(judgeKernel({ ...before, sysctls: new Map([['kernel.randomize_va_space', undefined]]) }, baseline)[0]?.message).toBe(
      'sysctl kernel.randomize_va_space is absent, was "2" at the baseline',
    );
  });

  it('does not judge modules against a baseline that never read them', () => {
    const baseline = kernelBaselineOf(learnKernel({ ...before, modules: undefined }));
    expect(judgeKernel({ ...before, modules: [{ name: 'new', size: 1, taint: '' }] }, baseline)).toEqual([]);
  });
});

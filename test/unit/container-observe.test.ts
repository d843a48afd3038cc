import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import type { ProcessDetails } from '../../src/procfs/process-reader.js';
import { ContainerObserver } from '../../src/processes/container-observe.js';
import type { ObservedProcess } from '../../src/processes/host-view.js';
import { tempDir } from '../helpers/cli.js';

/**
 * The container observer on a procfs of fixture files: each process's mountinfo names an overlay
 * whose upper layer is a real directory, its exe and fd/0 are links the kernel would follow
 * (stat follows these symlinks the same way), its cgroup names a CRI-O container.
 */

const id = '3f2a9c1d0b7e4a5f8e6d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f';

function fixture() {
  const dir = tempDir();
  const procfs = join(dir, 'proc');
  const upper = join(dir, 'upper');
  const image = join(dir, 'image');
  mkdirSync(join(upper, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(image, 'bin'), { recursive: true });
  copyFileSync('/usr/bin/true', join(upper, 'usr/local/bin/implant'));
  copyFileSync('/usr/bin/true', join(image, 'bin/sleep'));
  const addProcess = (pid: number, exePath: string) => {
    const base = join(procfs, String(pid));
    mkdirSync(join(base, 'fd'), { recursive: true });
    writeFileSync(
      join(base, 'mountinfo'),
      `74 50 0:41 / / rw,relatime - overlay overlay rw,lowerdir=${image},upperdir=${upper},workdir=${dir}/work\n75 74 0:44 / /proc rw - proc proc rw\n`,
    );
    writeFileSync(join(base, 'cgroup'), `0::/kubepods/besteffort/pod6f3a7a2e-1b2c-4d5e-8f90-123456789abc/crio-${id}\n`);
    symlinkSync(exePath.startsWith('/usr/local') ? join(upper, exePath) : join(image, exePath), join(base, 'exe'));
    symlinkSync('/dev/null', join(base, 'fd/0'));
  };
  return { observer: new ContainerObserver({ procfs, rootfs: '/', stateDir: dir }, silentLogger), addProcess };
}

function container(pid: number, exePath: string): { details: ProcessDetails; observed: ObservedProcess } {
  const exe = { kind: 'path', path: exePath, deleted: false } as const;
  const details = {
    pid,
    ppid: 1,
    comm: 'x',
    kernelThread: false,
    startTicks: 1000 + pid,
    uid: 0,
    euid: 0,
    exe,
    cpuSeconds: 0,
    rssBytes: 0,
    argv0: exePath,
    cmdlineEmpty: false,
    stalled: false,
    state: 'S',
    startedAt: 0,
    mountNamespace: 'mnt:[4026532174]',
    root: { kind: 'directory', identity: '65024:42' },
  } satisfies ProcessDetails;
  const observed = {
    ...details,
    user: 'root',
    userClass: 'root',
    parentExe: undefined,
    cpuCores: 0,
    root: 'other',
  } satisfies ObservedProcess;
  return { details, observed };
}

async function observe(observer: ContainerObserver, processes: Array<ReturnType<typeof container>>, full: boolean) {
  return observer.observe(
    processes.map((p) => p.details),
    processes.map((p) => p.observed),
    full,
  );
}

describe('the container observer', () => {
  it('places a file made in the upper layer there, an image file in the image; names the container once per namespace', async () => {
    const { observer, addProcess } = fixture();
    addProcess(10, '/bin/sleep');
    addProcess(11, '/usr/local/bin/implant');
    const facts = await observe(observer, [container(10, '/bin/sleep'), container(11, '/usr/local/bin/implant')], true);
    expect(facts.get(10)).toMatchObject({ executableLayer: 'image', standardInput: 'other', identity: { runtime: 'cri-o', id } });
    expect(facts.get(11)?.executableLayer).toBe('writable_layer');
    // One identity per namespace: both processes share the object (the metrics count containers by it).
    expect(facts.get(10)?.identity).toBe(facts.get(11)?.identity);
  });

  it('reads nothing again for processes it has seen, and forgets those gone at the next full look', async () => {
    const { observer, addProcess } = fixture();
    addProcess(10, '/bin/sleep');
    const first = await observe(observer, [container(10, '/bin/sleep')], true);
    const second = await observe(observer, [container(10, '/bin/sleep')], true);
    expect(second.get(10)).toBe(first.get(10));
    await observe(observer, [], true);
    const again = await observe(observer, [container(10, '/bin/sleep')], true);
    expect(again.get(10)).not.toBe(first.get(10));
    expect(again.get(10)).toEqual(first.get(10));
  });

  it('a look at new PIDs while a full look waits on reads makes neither forget what the other read', async () => {
    const { observer, addProcess } = fixture();
    for (const pid of [10, 11, 12]) addProcess(pid, pid === 11 ? '/usr/local/bin/implant' : '/bin/sleep');
    await observe(observer, [container(10, '/bin/sleep')], true);
    // The full look has a new process to read (it waits on the file system); the watch's look starts meanwhile.
    const fullLook = observe(observer, [container(10, '/bin/sleep'), container(11, '/usr/local/bin/implant')], true);
    const watchLook = observe(observer, [container(12, '/bin/sleep')], false);
    const [full, watch] = await Promise.all([fullLook, watchLook]);
    expect([...full.keys()].sort()).toEqual([10, 11]);
    expect([...watch.keys()]).toEqual([12]);
    // What the watch read is kept for the next full look, not read again.
    const next = await observe(
      observer,
      [container(10, '/bin/sleep'), container(11, '/usr/local/bin/implant'), container(12, '/bin/sleep')],
      true,
    );
    expect(next.get(12)).toBe(watch.get(12));
    expect(next.get(11)).toBe(full.get(11));
  });
});

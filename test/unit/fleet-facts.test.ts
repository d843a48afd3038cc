import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executableFacts, FlaggedImages } from '../../src/fleet/flagged-images.js';
import { listenerFacts } from '../../src/fleet/flagged-listeners.js';
import { ImageHashes, type BatchHasher, type ImageHash } from '../../src/fleet/image-hashes.js';
import { IsolatedFs } from '../../src/isolated/isolated-fs.js';
import { silentLogger } from '../../src/log/logger.js';
import { StuckReads } from '../../src/procfs/stuck-reads.js';
import type { UnexpectedListener } from '../../src/network/judge-listeners.js';
import type { ObservedSocket, Ownership } from '../../src/network/snapshot.js';
import type { ObservedProcess } from '../../src/processes/host-view.js';
import type { JudgedProcess, ProcessVerdict, RunningProcessKind } from '../../src/processes/judge.js';
import { tempDir } from '../helpers/cli.js';

/** What judgment would have said of a process: only the fields the fleet facts read. */
function flagged(
  pid: number,
  exe: string,
  kinds: RunningProcessKind[],
  extra: { deleted?: boolean; container?: string } = {},
): JudgedProcess {
  const process = { pid, exe: { kind: 'path', path: exe, deleted: extra.deleted ?? false } } as unknown as ObservedProcess;
  return {
    status: 'judged',
    process,
    exe,
    knownBy: 'unknown',
    kinds,
    reasons: {},
    claimedName: undefined,
    outdated: false,
    containerNamespace: extra.container,
  };
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

describe('which executable images have a finding (judgment side)', () => {
  it('groups processes by path, keeps the most severe kind, and leaves out known processes and kernel threads', () => {
    const images = new FlaggedImages();
    const verdicts: ProcessVerdict[] = [
      flagged(10, '/tmp/x', ['unknown_executable']),
      flagged(11, '/tmp/x', ['writable_location', 'unknown_executable']),
      flagged(12, '/usr/bin/sleep', []),
      { status: 'kernel_thread', process: { pid: 2 } as ObservedProcess },
    ];
    for (const v of verdicts) images.add(v);
    expect(images.images()).toEqual([{ exe: '/tmp/x', kind: 'writable_location', pids: [10, 11] }]);
  });

  it("tells a replaced image and a container's file apart from the file at the same path", () => {
    const images = new FlaggedImages();
    images.add(flagged(10, '/opt/app/x', ['unknown_executable']));
    images.add(flagged(11, '/opt/app/x', ['deleted_executable'], { deleted: true }));
    images.add(flagged(12, '/opt/app/x', ['writable_location'], { container: 'mnt:[4026532999]' }));
    expect(images.images().map((i) => i.pids)).toEqual([[10], [11], [12]]);
  });

  it('makes one row per image and path, counts what is not hashed yet, and tries another process when the first exited', () => {
    const hashes: Record<number, ImageHash> = {
      10: { state: 'gone' },
      11: { state: 'hashed', sha256: hashOf('x') },
      20: { state: 'hashed', sha256: hashOf('x') },
      30: { state: 'pending' },
      40: { state: 'unreadable' },
    };
    const facts = executableFacts(
      [
        { exe: '/tmp/x', kind: 'unknown_executable', pids: [10, 11] },
        // The same image under the same path, e.g. the host's file run in a sandbox: one row, most severe kind.
        { exe: '/tmp/x', kind: 'writable_location', pids: [20] },
        { exe: '/tmp/y', kind: 'writable_location', pids: [30] },
        { exe: '/tmp/z', kind: 'writable_location', pids: [40] },
      ],
      (pid) => hashes[pid]!,
    );
    expect(facts).toEqual({
      rows: [{ labels: { sha256: hashOf('x'), exe: '/tmp/x', kind: 'writable_location' }, value: 1 }],
      pending: 1,
      unreadable: 1,
    });
  });
});

describe('which unexpected listeners become fleet facts', () => {
  const socket = (port: number, ownership: Ownership, family: 4 | 6 = 4): UnexpectedListener => ({
    socket: {
      protocol: 'tcp',
      family,
      localAddress: family === 4 ? '0.0.0.0' : '::',
      localPort: port,
      ownership,
    } as unknown as ObservedSocket,
    address: 'any',
    reason: 'not_allowed',
  });
  const owner = (pid: number, exe: string) => ({ pid, exe, uid: 0, user: 'root', userClass: 'root' as const, self: false });

  it('one row per program image and port, IPv4 and IPv6 together; ownerless sockets by port alone', () => {
    let lookups = 0;
    const facts = listenerFacts(
      [
        socket(4444, { kind: 'known', owners: [owner(7, '/tmp/nc')] }),
        socket(4444, { kind: 'known', owners: [owner(7, '/tmp/nc')] }, 6),
        socket(51820, { kind: 'kernel' }),
        socket(8080, { kind: 'known', owners: [owner(8, '/tmp/new')] }),
        socket(8080, { kind: 'known', owners: [owner(8, '/tmp/new')] }, 6),
      ],
      (pid) => {
        lookups++;
        return pid === 7 ? { state: 'hashed', sha256: hashOf('nc') } : { state: 'pending' };
      },
    );
    expect(facts.rows.map((r) => r.labels)).toEqual([
      { sha256: hashOf('nc'), exe: '/tmp/nc', protocol: 'tcp', port: '4444' },
      { sha256: '', exe: 'kernel', protocol: 'tcp', port: '51820' },
    ]);
    expect([facts.pending, facts.unreadable, lookups]).toEqual([1, 0, 2]);
  });
});

describe('hashes of flagged images', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  /** The real hashing helper process, counting the files it is given. */
  function countingPool(): { hasher: BatchHasher; hashed: string[] } {
    const hashed: string[] = [];
    const fs = new IsolatedFs(new StuckReads(silentLogger), silentLogger, { stallMs: 60_000 });
    stops.push(async () => fs.close());
    const hasher: BatchHasher = async (jobs) => {
      hashed.push(...jobs.map((j) => j.file));
      return fs.hashImages(jobs);
    };
    return { hasher, hashed };
  }

  /** A process directory whose exe link leads to `target`, as /proc/PID/exe does. */
  function procExe(root: string, pid: number, target: string): string {
    mkdirSync(join(root, String(pid)), { recursive: true });
    symlinkSync(target, join(root, String(pid), 'exe'));
    return join(root, String(pid), 'exe');
  }

  it('hashes a new image after the collection, in a worker, and not again while it is unchanged', async () => {
    const dir = tempDir();
    const binary = join(dir, 'miner');
    writeFileSync(binary, 'ELF pretend miner\n');
    const link = procExe(join(dir, 'proc'), 4242, binary);
    const other = procExe(join(dir, 'proc'), 4243, binary);
    const { hasher, hashed } = countingPool();
    const hashes = new ImageHashes(hasher);
    stops.push(() => hashes.stop());
    hashes.start();

    expect(hashes.lookup(link)).toEqual({ state: 'pending' });
    hashes.flush();
    await hashes.settled();
    expect(hashes.lookup(link)).toEqual({ state: 'hashed', sha256: hashOf('ELF pretend miner\n') });
    // Another process of the same image, and later collections: no new read.
    expect(hashes.lookup(other)).toEqual({ state: 'hashed', sha256: hashOf('ELF pretend miner\n') });
    hashes.flush();
    await hashes.settled();
    expect(hashed).toEqual([link]);
  });

  it('an image rewritten in place is hashed again, with its new content', async () => {
    const dir = tempDir();
    const binary = join(dir, 'tool');
    writeFileSync(binary, 'version 1\n');
    const link = procExe(join(dir, 'proc'), 100, binary);
    const { hasher, hashed } = countingPool();
    const hashes = new ImageHashes(hasher);
    stops.push(() => hashes.stop());
    hashes.start();
    hashes.lookup(link);
    hashes.flush();
    await hashes.settled();
    writeFileSync(binary, 'version 2, longer\n');
    expect(hashes.lookup(link)).toEqual({ state: 'pending' });
    hashes.flush();
    await hashes.settled();
    expect(hashes.lookup(link)).toEqual({ state: 'hashed', sha256: hashOf('version 2, longer\n') });
    expect(hashed).toHaveLength(2);
  });

  it('until hashing starts (check, baseline) images stay pending and nothing is read', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x'), 'x');
    const link = procExe(join(dir, 'proc'), 1, join(dir, 'x'));
    const { hasher, hashed } = countingPool();
    const hashes = new ImageHashes(hasher);
    hashes.lookup(link);
    hashes.flush();
    await hashes.settled();
    expect(hashes.lookup(link)).toEqual({ state: 'pending' });
    expect(hashed).toEqual([]);
  });

  it('a process that exited is gone; an image that cannot be read is unreadable and not retried', async () => {
    const dir = tempDir();
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'x');
    chmodSync(secret, 0o000);
    const link = procExe(join(dir, 'proc'), 5, secret);
    // Root reads anything: refuse the read as the kernel would refuse it to an unprivileged exporter.
    const hashed: string[] = [];
    const hashes = new ImageHashes(async (jobs) => {
      hashed.push(...jobs.map((j) => j.file));
      return jobs.map(() => ({ bytes: 0, problem: 'unreadable' as const, detail: 'EACCES' }));
    });
    hashes.start();
    expect(hashes.lookup(join(dir, 'proc', '6', 'exe'))).toEqual({ state: 'gone' });
    hashes.lookup(link);
    hashes.flush();
    await hashes.settled();
    expect(hashes.lookup(link)).toEqual({ state: 'unreadable' });
    hashes.flush();
    await hashes.settled();
    expect(hashed).toEqual([link]);
  });

  it('remembers a bounded number of images, the least recently used forgotten first', async () => {
    const dir = tempDir();
    const hashes = new ImageHashes(async (jobs) => jobs.map((j) => ({ bytes: 1, sha256: hashOf(j.file) })), 3);
    hashes.start();
    const links = [1, 2, 3, 4, 5].map((pid) => {
      writeFileSync(join(dir, `b${pid}`), String(pid));
      return procExe(join(dir, 'proc'), pid, join(dir, `b${pid}`));
    });
    for (const link of links.slice(0, 3)) hashes.lookup(link);
    hashes.flush();
    await hashes.settled();
    hashes.lookup(links[0]!); // used again: kept
    for (const link of links.slice(3)) hashes.lookup(link);
    hashes.flush();
    await hashes.settled();
    expect(hashes.size).toBe(3);
    expect(hashes.lookup(links[0]!).state).toBe('hashed');
    expect(hashes.lookup(links[1]!).state).toBe('pending');
  });
});

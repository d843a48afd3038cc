import { appendFileSync, cpSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/procfs/cmdline.js';
import { readOwnMounts } from '../../src/procfs/mounts.js';
import { ProcessReader, type ProcessDetails } from '../../src/procfs/process-reader.js';
import { processesSectionSchema } from '../../src/config/sections/processes.js';
import { silentLogger } from '../../src/log/logger.js';
import { judgeContext, judgeProcess } from '../../src/processes/judge.js';
import { HostObserver } from '../../src/processes/observe.js';
import { compileProcessPolicy } from '../../src/processes/process-policy.js';
import { emptyStatFields, parseStat, parseStatBytes } from '../../src/procfs/stat.js';
import { parseBootTime, parsePidMax } from '../../src/procfs/system.js';
import { halfSipHash64, hashKeyFromBytes } from '../../src/processes/half-siphash.js';
import { buildPackageIndex, dpkgSignature } from '../../src/processes/package-index.js';
import { tempDir } from '../helpers/cli.js';

const fixture = new URL('../fixtures/processes/', import.meta.url).pathname;
const procfs = join(fixture, 'proc');
const rootfs = join(fixture, 'rootfs');

describe('stat parsed from bytes', () => {
  it('marks the process image by the addresses an exec draws anew; no mark when the kernel withholds them or is too old to show them', () => {
    const line = (
      stack: string,
      tail = ' 94689216863280 94689216864896 94689869537280 140731534199522 140731534199542 140731534199542 140731534200811 0',
    ) =>
      `42 (sh) S 1 42 42 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 3410229 3133440 390 18446744073709551615 94689216827392 94689216847273 ${stack} 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0${tail}\n`;
    const mark = (text: string) => {
      const fields = emptyStatFields();
      parseStatBytes(Buffer.from(text, 'latin1'), text.length, fields);
      return [fields.imageMarkA, fields.imageMarkB];
    };
    expect(mark(line('140731534194960'))).toEqual(mark(line('140731534194960')));
    expect(mark(line('140731534194960'))).not.toEqual([0, 0]);
    expect(mark(line('140731534194960'))).not.toEqual(mark(line('140731534194961')));
    expect(mark(line('140731534194960'))).not.toEqual(
      mark(
        line(
          '140731534194960',
          ' 94689216863280 94689216864896 94689869537280 140731534199522 140731534199543 140731534199543 140731534200811 0',
        ),
      ),
    );
    expect(mark(line('0'))).toEqual([0, 0]);
    expect(mark(line('140731534194960', ''))).toEqual([0, 0]);
  });

  it('agrees with the text parser on any comm, parentheses and spaces included', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', ' ', '(', ')', 'k', '/', '0'), maxLength: 15 }),
        fc.nat(1e9),
        fc.nat(1e6),
        (comm, start, ppid) => {
          const text = `42 (${comm}) S ${ppid} 42 42 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 1 0 ${start} 9000000 2560 18446744073709551615 1 1\n`;
          const bytes = Buffer.from(text, 'latin1');
          const fields = emptyStatFields();
          parseStatBytes(bytes, bytes.length, fields);
          const stat = parseStat(text);
          expect(text.slice(fields.commStart, fields.commEnd)).toBe(comm);
          expect(stat).toMatchObject({ comm, ppid, startTicks: start, utimeTicks: 250, stimeTicks: 50, state: 'S' });
        },
      ),
    );
  });

  it('rejects garbage with the file and the field at fault', () => {
    const fields = emptyStatFields();
    const bytes = Buffer.from('12 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 zz 20 21\n');
    expect(() => parseStatBytes(bytes, bytes.length, fields, '/proc/12/stat')).toThrow('/proc/12/stat: field 22 is not a number: "zz"');
    expect(() => parseStat('12 (x) S 1 2 3', '/proc/12/stat')).toThrow('/proc/12/stat: expected at least 22 fields, found 6');
  });
});

describe('small /proc parsers', () => {
  it('reads argv[0] and tells an empty command line apart', () => {
    expect(parseCmdline('sshd: alice@pts/0\0\0\0')).toEqual({ argv0: 'sshd: alice@pts/0', empty: false });
    expect(parseCmdline('/usr/bin/sleep\u0000600\u0000')).toEqual({ argv0: '/usr/bin/sleep', empty: false });
    expect(parseCmdline('')).toEqual({ argv0: '', empty: true });
  });

  it('reads the boot time and pid_max, and refuses nonsense', () => {
    expect(parseBootTime('cpu 1 2 3\nbtime 1700000000\nprocesses 5\n')).toBe(1_700_000_000);
    expect(() => parseBootTime('cpu 1 2 3\n', '/proc/stat')).toThrow('/proc/stat: no btime line');
    expect(parsePidMax('4194304\n')).toBe(4_194_304);
    expect(() => parsePidMax('lots\n', 'pid_max')).toThrow('pid_max: not a PID limit: "lots"');
  });
});

describe('the package index', () => {
  it('computes HalfSipHash-2-4-64 as the reference test vectors say', () => {
    const key = hashKeyFromBytes(Uint8Array.from({ length: 8 }, (_, i) => i));
    const input = Uint8Array.from({ length: 16 }, (_, i) => i);
    // vectors_hsip64 of the reference implementation, for inputs of length 0, 1, 3, 4, 5, 8 and 15.
    const vectors: Record<number, string> = {
      0: '218d1f59b9b83cc8',
      1: 'be552412f8387315',
      3: 'ce0f1a45f7060679',
      4: 'd5e78a175be52ea1',
      5: 'cb9d7c3f2f3db580',
      8: 'edfee820bce4858c',
      15: '217d0bcb4e81c902',
    };
    const out = new Uint32Array(2);
    for (const [length, hex] of Object.entries(vectors)) {
      halfSipHash64(key, input, 0, Number(length), out);
      const bytes = Buffer.alloc(8);
      bytes.writeUInt32LE(out[0]!, 0);
      bytes.writeUInt32LE(out[1]!, 4);
      expect(bytes.toString('hex')).toBe(hex);
    }
  });

  it('knows the packaged paths of a root, with merged /usr and diversions, and nothing else', async () => {
    const index = await buildPackageIndex(rootfs);
    expect(index.size).toBe(15);
    // /usr/bin/bash is /bin/bash in bash.list: /bin is a symlink to usr/bin on this root.
    expect(
      ['/usr/sbin/sshd', '/usr/bin/bash', '/bin/bash', '/usr/lib/systemd/systemd', '/bin/sh.distrib', '/usr/bin/perl'].map((p) =>
        index.owns(p),
      ),
    ).toEqual([true, true, true, true, true, true]);
    // /usr/sbin is not merged here, dpkg's "/." is not a path, and /opt/app is nobody's.
    expect(['/sbin/sshd', '/.', '/opt/app/bin/app', '/usr/bin/sleep2', '/tmp/.cache/x'].map((p) => index.owns(p))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('is empty, not an error, on a root without dpkg', async () => {
    const bare = tempDir();
    expect(dpkgSignature(bare)).toBe('none');
    expect((await buildPackageIndex(bare)).owns('/usr/bin/bash')).toBe(false);
  });

  it('changes its signature when dpkg installs a package', async () => {
    const root = tempDir();
    cpSync(rootfs, root, { recursive: true, verbatimSymlinks: true });
    const before = await buildPackageIndex(root);
    expect(before.owns('/usr/bin/jq')).toBe(false);
    // dpkg adds the package's stanza: the status file grows, whatever the clock's resolution.
    writeFileSync(join(root, 'var/lib/dpkg/info/jq.list'), '/.\n/usr\n/usr/bin\n/usr/bin/jq\n');
    appendFileSync(join(root, 'var/lib/dpkg/status'), '\nPackage: jq\nStatus: install ok installed\n');
    expect(dpkgSignature(root)).not.toBe(before.signature);
    expect((await buildPackageIndex(root)).owns('/usr/bin/jq')).toBe(true);
  });
});

function byPid(processes: readonly ProcessDetails[], pid: number): ProcessDetails | undefined {
  return processes.find((p) => p.pid === pid);
}

describe('the process reader on a fixture procfs', () => {
  it('reads every process, counts the garbled and the vanished instead of failing', async () => {
    const reader = new ProcessReader(procfs);
    const snapshot = await reader.readAll();
    expect(snapshot.processes.map((p) => p.pid).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 120, 121, 130, 200, 300, 400, 500, 600, 800, 4242,
    ]);
    // 777 has a truncated stat; 950 is listed but has no files (masked, or gone mid-read).
    expect({ races: snapshot.races, denied: snapshot.denied, malformed: snapshot.malformed }).toEqual({
      races: 1,
      denied: 0,
      malformed: 1,
    });
    expect(byPid(snapshot.processes, 200)).toMatchObject({
      comm: 'kworker/0:2',
      argv0: '[kworker/0:2]',
      euid: 33,
      exe: { kind: 'path', path: '/usr/bin/perl', deleted: false },
    });
    expect(byPid(snapshot.processes, 4242)).toMatchObject({
      comm: '(a) b (c)',
      cpuSeconds: 3,
      startedAt: 1_700_000_000 + 987.65,
      exe: { path: '/tmp/.cache/x', deleted: true },
    });
    expect(byPid(snapshot.processes, 3)).toMatchObject({ kernelThread: true, exe: { kind: 'none' }, euid: 0 });
    expect(byPid(snapshot.processes, 800)).toMatchObject({ state: 'Z', exe: { kind: 'none' }, cmdlineEmpty: true });
    reader.close();
  });

  it('sees a reused PID as a new process, and re-reads credentials only when something says they may have changed', async () => {
    const root = tempDir();
    cpSync(procfs, root, { recursive: true, verbatimSymlinks: true });
    // A day after the fixture's boot; the first refresh is not spread, so the test knows when it comes.
    let clock = (1_700_000_000 + 86_400) * 1000;
    const reader = new ProcessReader(root, { now: () => clock, maxCacheAgeMs: 60_000, random: () => 0 });
    await reader.readAll();
    const stat = (start: number, comm = 'sleep') =>
      `300 (${comm}) S 130 300 300 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 250 0 1 1\n`;

    // Same process, argv rewritten: cached for now (no exec, no rename, not young).
    writeFileSync(join(root, '300/cmdline'), 'sleep-renamed\0');
    clock += 1000;
    expect(byPid((await reader.readAll()).processes, 300)?.argv0).toBe('sleep');
    // A rename (comm changes) reads it again.
    writeFileSync(join(root, '300/stat'), stat(7000, 'sleepy'));
    expect(byPid((await reader.readAll()).processes, 300)?.argv0).toBe('sleep-renamed');
    // The PID reused by another process (new start time) with another user and executable.
    writeFileSync(join(root, '300/stat'), stat(9999));
    writeFileSync(join(root, '300/status'), 'Name:\tnc\nTgid:\t300\nUid:\t33\t33\t33\t33\nGid:\t33\t33\t33\t33\n');
    rmSync(join(root, '300/exe'));
    symlinkSync('/tmp/nc', join(root, '300/exe'));
    expect(byPid((await reader.readAll()).processes, 300)).toMatchObject({ startTicks: 9999, euid: 33, exe: { path: '/tmp/nc' } });
    // Credentials changed in place: seen at the latest when the cache ages out.
    writeFileSync(join(root, '300/status'), 'Name:\tnc\nTgid:\t300\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n');
    expect(byPid((await reader.readAll()).processes, 300)?.euid).toBe(33);
    clock += 61_000;
    expect(byPid((await reader.readAll()).processes, 300)?.euid).toBe(0);
    // Garbage written over stat: counted, never thrown.
    writeFileSync(join(root, '300/stat'), '300 (x) S garbage\n');
    const garbled = await reader.readAll();
    expect([byPid(garbled.processes, 300), garbled.malformed]).toEqual([undefined, 2]);
    reader.close();
  });
});

describe('processes in another mount namespace: containers by their root', () => {
  it("a process with another root is neither known nor unknown; one with the host's root is judged as the host's", async () => {
    const root = tempDir();
    cpSync(procfs, root, { recursive: true, verbatimSymlinks: true });
    const namespaces: Record<number, string> = {
      1: 'mnt:[4026531841]',
      120: 'mnt:[4026531841]',
      // In a container: /opt/app/bin/app is no host file (it would be unknown).
      500: 'mnt:[4026532999]',
      // Sandboxed (systemd's PrivateTmp, `unshare -m`): its own namespace, the host's root.
      300: 'mnt:[4026532500]',
      // Another namespace whose root cannot be stat'ed (it has no root link here).
      200: 'mnt:[4026532777]',
    };
    for (const [pid, namespace] of Object.entries(namespaces)) {
      mkdirSync(join(root, pid, 'ns'));
      symlinkSync(namespace, join(root, pid, 'ns', 'mnt'));
    }
    symlinkSync(tempDir(), join(root, '500', 'root'));
    symlinkSync(rootfs, join(root, '300', 'root'));
    // The host's processes are never stat'ed: a root link there would change nothing.
    symlinkSync(tempDir(), join(root, '120', 'root'));
    const observer = new HostObserver({ procfs: root, rootfs, stateDir: tempDir() }, silentLogger);
    const section = processesSectionSchema.parse({});
    const { view, snapshot } = await observer.observe(section);
    expect(byPid(snapshot.processes, 500)).toMatchObject({ mountNamespace: 'mnt:[4026532999]', root: { kind: 'directory' } });
    expect(byPid(snapshot.processes, 200)?.root).toEqual({ kind: 'unreadable', problem: 'gone' });
    expect(byPid(snapshot.processes, 120)?.root).toBeUndefined();
    const roots = Object.fromEntries(view.processes.filter((p) => p.pid in namespaces).map((p) => [p.pid, p.root]));
    expect(roots).toEqual({ 1: 'host', 120: 'host', 500: 'other', 300: 'host', 200: 'unreadable' });
    // The host's files are not consulted for a container's path (only PID 200 runs /usr/bin/perl).
    expect(view.executables.has('/usr/bin/perl')).toBe(false);
    expect(view.executables.has('/usr/bin/sleep')).toBe(true);
    const ctx = judgeContext(view, compileProcessPolicy(section), undefined);
    const verdict = (pid: number) =>
      judgeProcess(
        view.processes.find((p) => p.pid === pid)!,
        ctx,
      );
    expect(verdict(500)).toMatchObject({ status: 'judged', knownBy: 'not_judged', kinds: [], containerNamespace: 'mnt:[4026532999]' });
    expect(verdict(200)).toMatchObject({ status: 'judged', knownBy: 'not_judged', containerNamespace: 'mnt:[4026532777]' });
    expect(verdict(300)).toMatchObject({ status: 'judged', knownBy: 'package', kinds: [], containerNamespace: undefined });
    // The host's own processes are judged as before.
    expect(verdict(120)).toMatchObject({ status: 'judged', knownBy: 'package', kinds: [] });
    observer.close();
  });
});

describe('the process reader reads again only what can have changed', () => {
  /** /proc/PID/stat as Linux 6 writes it; `stack` is the start of the stack, which an exec draws anew. */
  const stat = (o: { comm?: string; minflt?: number; utime?: number; rss?: number; stack?: number; argsEnd?: number } = {}) =>
    `300 (${o.comm ?? 'app'}) S 1 300 300 0 -1 4194304 ${o.minflt ?? 99} 0 0 0 ${o.utime ?? 0} 0 0 0 20 0 1 0 7000 3133440 ${o.rss ?? 390} ` +
    `18446744073709551615 94689216827392 94689216847273 ${o.stack ?? 140731534194960} 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 ` +
    `94689216863280 94689216864896 94689869537280 ${o.argsEnd === 0 ? 0 : 140731534199522} ${o.argsEnd ?? 140731534199542} 140731534199542 140731534200811 0\n`;

  /** A procfs of one process (PID 300) in the reader's own mount namespace, running `exe`, a real file. */
  function oneProcess(): { root: string; exe: string; relink: (target: string) => void } {
    const root = tempDir();
    const exe = join(tempDir(), 'app');
    writeFileSync(exe, 'v1');
    writeFileSync(join(root, 'stat'), 'cpu 0 0 0 0\nbtime 1700000000\n');
    writeFileSync(join(root, 'uptime'), '86400.00 0.00\n');
    for (const dir of ['self/ns', '300/ns']) {
      mkdirSync(join(root, dir), { recursive: true });
      symlinkSync('mnt:[4026531841]', join(root, dir, 'mnt'));
    }
    writeFileSync(join(root, '300/stat'), stat());
    writeFileSync(join(root, '300/statm'), '765 439 410 5 0 123 0\n');
    writeFileSync(join(root, '300/status'), 'Name:\tapp\nTgid:\t300\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n');
    writeFileSync(join(root, '300/cmdline'), 'app\0');
    const relink = (target: string) => {
      rmSync(join(root, '300/exe'), { force: true });
      symlinkSync(target, join(root, '300/exe'));
    };
    relink(exe);
    return { root, exe, relink };
  }

  const mounts = () => readOwnMounts('/proc');
  const exeOf = async (reader: ProcessReader, withMounts = true) =>
    byPid((await reader.readAll(withMounts ? mounts() : undefined)).processes, 300)?.exe;

  it("an empty command line is the process's own only with its arguments in place: in the middle of an exec it reads empty too", async () => {
    const { root } = oneProcess();
    const reader = new ProcessReader(root);
    writeFileSync(join(root, '300/cmdline'), '');
    const read = async () => {
      const one = await reader.readOne(300);
      return one.ok ? one.process.cmdlineEmpty : one.problem;
    };
    // Arguments in place (the end of arguments set, the same image before and after): emptied by the process itself.
    expect(await read()).toBe(true);
    // The new memory of an exec, its arguments not yet placed: no end of arguments.
    writeFileSync(join(root, '300/stat'), stat({ argsEnd: 0 }));
    expect(await read()).toBe(false);
    // Earlier in the exec, before the new image's stack is set: no addresses at all, on both reads,
    // while the executable link is readable (so they are not withheld).
    writeFileSync(join(root, '300/stat'), stat({ stack: 0 }));
    expect(await read()).toBe(false);
    reader.close();
  });

  it('keeps the executable link while stat says no exec and its path is the same file; an exec, or the file deleted or replaced, reads it again', async () => {
    const { root, exe, relink } = oneProcess();
    const reader = new ProcessReader(root, { maxCacheAgeMs: 3_600_000, random: () => 0 });
    expect(await exeOf(reader)).toEqual({ kind: 'path', path: exe, deleted: false });
    // The second read lstat's the path before reading the link: from then on the link is trusted.
    await exeOf(reader);
    relink('/usr/bin/other');
    expect(await exeOf(reader)).toEqual({ kind: 'path', path: exe, deleted: false });
    // An exec draws a new stack: the link is read at once.
    writeFileSync(join(root, '300/stat'), stat({ stack: 140731534000000 }));
    expect(await exeOf(reader)).toMatchObject({ path: '/usr/bin/other' });

    // Back to the file, trusted again; then it is replaced (a new file renamed over it).
    writeFileSync(join(root, '300/stat'), stat({ stack: 140731534111111 }));
    relink(exe);
    await exeOf(reader);
    await exeOf(reader);
    writeFileSync(`${exe}.new`, 'v2');
    renameSync(`${exe}.new`, exe);
    relink(`${exe} (deleted)`);
    expect(await exeOf(reader)).toEqual({ kind: 'path', path: exe, deleted: true });

    // Deleted stays deleted without an exec: not read again.
    relink('/usr/bin/other');
    expect(await exeOf(reader)).toMatchObject({ path: exe, deleted: true });
    reader.close();
  });

  it('a file deleted or renamed away from under a running process is seen at the next read', async () => {
    for (const moved of ['deleted', 'renamed'] as const) {
      const { root, exe, relink } = oneProcess();
      const reader = new ProcessReader(root, { maxCacheAgeMs: 3_600_000, random: () => 0 });
      await exeOf(reader);
      await exeOf(reader);
      if (moved === 'deleted') {
        rmSync(exe);
        relink(`${exe} (deleted)`);
        expect(await exeOf(reader)).toEqual({ kind: 'path', path: exe, deleted: true });
      } else {
        renameSync(exe, `${exe}.moved`);
        relink(`${exe}.moved`);
        expect(await exeOf(reader)).toEqual({ kind: 'path', path: `${exe}.moved`, deleted: false });
      }
      reader.close();
    }
  });

  it('reads every link without the mount table, and without an image mark (stat withheld, no ptrace access)', async () => {
    const { root, relink } = oneProcess();
    const reader = new ProcessReader(root, { maxCacheAgeMs: 3_600_000, random: () => 0 });
    await exeOf(reader, false);
    await exeOf(reader, false);
    relink('/usr/bin/other');
    expect(await exeOf(reader, false)).toMatchObject({ path: '/usr/bin/other' });
    // Without ptrace access the kernel writes 1, 1 and 0 for the code and the stack, 0 for the rest.
    writeFileSync(join(root, '300/stat'), stat({ stack: 0 }));
    await exeOf(reader);
    await exeOf(reader);
    relink('/usr/bin/third');
    expect(await exeOf(reader)).toMatchObject({ path: '/usr/bin/third' });
    reader.close();
  });

  it('reads statm again when stat says the resident set may have moved (faults, CPU time, rss), and when the cache ages out', async () => {
    const { root } = oneProcess();
    let clock = (1_700_000_000 + 86_400) * 1000;
    const reader = new ProcessReader(root, { now: () => clock, maxCacheAgeMs: 60_000, random: () => 0 });
    const resident = async () => byPid((await reader.readAll(mounts())).processes, 300)?.rssBytes;
    const page = (await resident())! / 439;
    const statm = (pages: number) => writeFileSync(join(root, '300/statm'), `765 ${pages} 410 5 0 123 0\n`);
    statm(500);
    // Idle: nothing in stat moved, the last resident set stands.
    expect(await resident()).toBe(439 * page);
    let pages = 439;
    for (const moved of [{ minflt: 120 }, { minflt: 120, utime: 3 }, { minflt: 120, utime: 3, rss: 400 }]) {
      statm((pages += 10));
      writeFileSync(join(root, '300/stat'), stat(moved));
      expect(await resident()).toBe(pages * page);
    }
    statm(600);
    expect(await resident()).toBe(pages * page);
    clock += 61_000;
    expect(await resident()).toBe(600 * page);
    reader.close();
  });
});

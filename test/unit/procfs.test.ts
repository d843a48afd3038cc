import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProcParseError } from '../../src/procfs/errors.js';
import { parseExeTarget } from '../../src/procfs/exe.js';
import { listPids } from '../../src/procfs/pids.js';
import { ProcessReader } from '../../src/procfs/process-reader.js';
import { readProcess, readProcessTable, type ProcessInfo } from '../../src/procfs/process-table.js';
import { isKernelThread, parseStat } from '../../src/procfs/stat.js';
import { parseStatm } from '../../src/procfs/statm.js';
import { parseStatus } from '../../src/procfs/status.js';
import { classifyUid, parsePasswd, parseUidMin, UserDirectory } from '../../src/rootfs/users.js';

const procfs = new URL('../fixtures/proc', import.meta.url).pathname;
const rootfs = new URL('../fixtures/rootfs', import.meta.url).pathname;

describe('/proc parsers', () => {
  it('reads stat fields after the last parenthesis, whatever the comm contains', () => {
    const stat = parseStat(
      '4242 ((a) b (c)) R 100 4242 4242 0 -1 4194304 10 0 0 0 250 50 0 0 20 0 1 0 98765 9000000 2560 18446744073709551615',
    );
    expect(stat).toEqual({
      pid: 4242,
      comm: '(a) b (c)',
      state: 'R',
      ppid: 100,
      flags: 4194304,
      utimeTicks: 250,
      stimeTicks: 50,
      startTicks: 98765,
    });
  });

  it('tells kernel threads by the PF_KTHREAD flag', () => {
    expect(isKernelThread(parseStat('2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 22 0 0 1'))).toBe(true);
    expect(isKernelThread(parseStat('1 (systemd) S 0 1 1 0 -1 4194560 0 0 0 0 0 3 0 0 20 0 1 0 5 0 0 1'))).toBe(false);
  });

  it('rejects a truncated or garbled stat with a located error', () => {
    expect(() => parseStat('777 (broken', '/proc/777/stat')).toThrow(ProcParseError);
    expect(() => parseStat('12 (x) S 1 2 3', '/proc/12/stat')).toThrow('/proc/12/stat: expected at least 22 fields');
    expect(() => parseStat('12 (x) S one 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23')).toThrow(/field 4 is not a number/);
  });

  it('reads uids and gids from status', () => {
    const status = parseStatus('Name:\tnginx\nTgid:\t55\nUid:\t33\t33\t33\t33\nGid:\t33\t33\t33\t33\nVmRSS:\t 2048 kB\n');
    expect(status).toEqual({ name: 'nginx', tgid: 55, uids: [33, 33, 33, 33], gids: [33, 33, 33, 33] });
    expect(() => parseStatus('Name:\tx\nTgid:\t1\nUid:\t0\n')).toThrow(/bad Uid line/);
  });

  it('reads resident pages from statm, the second of its seven numbers', () => {
    const statm = (pid: number) => readFileSync(`${procfs}/${pid}/statm`, 'latin1');
    expect(parseStatm(statm(4242))).toEqual({ residentPages: 2560 });
    // A kernel thread (and a zombie) has no memory: the kernel prints zeros.
    expect(parseStatm(statm(2))).toEqual({ residentPages: 0 });
    expect(() => parseStatm('', '/proc/9/statm')).toThrow(ProcParseError);
    expect(() => parseStatm('2442 lots 900 45 0 360 0\n', '/proc/9/statm')).toThrow(
      '/proc/9/statm: expected "size resident ..." in pages, found "2442 lots 900 45 0 360 0"',
    );
  });

  it('marks an executable deleted after start', () => {
    expect(parseExeTarget('/tmp/x (deleted)')).toEqual({ kind: 'path', path: '/tmp/x', deleted: true });
    expect(parseExeTarget('/usr/sbin/sshd')).toEqual({ kind: 'path', path: '/usr/sbin/sshd', deleted: false });
  });

  it('maps uids to names from passwd, skipping malformed lines', () => {
    const users = parsePasswd('root:x:0:0:root:/root:/bin/bash\nbroken\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
    expect(users).toEqual([
      { name: 'root', uid: 0, home: '/root' },
      { name: 'www-data', uid: 33, home: '/var/www' },
    ]);
    const directory = new UserDirectory(rootfs);
    expect([directory.nameOf(1000), directory.nameOf(4321)]).toEqual(['alice', '4321']);
  });

  it('classes users without naming them: root, system, regular, and invalid for names with no account', () => {
    expect(parseUidMin('UID_MIN   500\n')).toBe(500);
    expect(parseUidMin('# nothing\n')).toBe(1000);
    expect([0, 33, 999, 1000, 65534].map((uid) => classifyUid(uid, 1000))).toEqual(['root', 'system', 'system', 'regular', 'system']);
    const directory = new UserDirectory(rootfs);
    expect(['root', 'www-data', 'alice', 'mallory'].map((n) => directory.classOfName(n))).toEqual(['root', 'system', 'regular', 'invalid']);
  });
});

describe('the process table on a fixture procfs', () => {
  it('lists numeric entries only', () => {
    expect(listPids(procfs)).toEqual([1, 2, 100, 777, 4242]);
  });

  it('reads every process, counting the malformed one instead of failing', () => {
    const table = readProcessTable(procfs);
    expect(table.processes.map((p) => p.pid)).toEqual([1, 2, 100, 4242]);
    expect({ races: table.races, denied: table.denied, malformed: table.malformed }).toEqual({ races: 0, denied: 0, malformed: 1 });
    const implant = table.processes.find((p) => p.pid === 4242);
    expect(implant).toEqual({
      pid: 4242,
      ppid: 100,
      comm: '(a) b (c)',
      kernelThread: false,
      startTicks: 98765,
      uid: 33,
      euid: 33,
      exe: { kind: 'path', path: '/tmp/.cache/x', deleted: true },
      cpuSeconds: 3,
      rssBytes: 10 * 1024 * 1024,
    });
    expect(table.processes.find((p) => p.pid === 2)).toMatchObject({ kernelThread: true, exe: { kind: 'none' }, rssBytes: 0 });
  });

  it('takes resident memory from statm, not from the lagging rss field of stat', () => {
    // 4242's stat says 2548 pages, as a kernel with per-CPU page counters may; statm and VmRSS say 2560.
    const read = readProcess(procfs, 4242);
    expect(read.ok && read.process.rssBytes).toBe(2560 * 4096);
  });

  it('reports a process that no longer exists as gone', () => {
    expect(readProcess(procfs, 99999)).toEqual({ ok: false, problem: 'gone' });
  });
});

describe('capabilities', () => {
  it('reads the effective set and tells the ones that decide visibility', async () => {
    const { hasCapability, parseEffectiveCapabilities } = await import('../../src/procfs/capabilities.js');
    const root = parseEffectiveCapabilities('CapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\n');
    const ptraceOnly = parseEffectiveCapabilities('CapEff:\t0000000000080000\n');
    expect(['cap_dac_read_search', 'cap_sys_ptrace'].map((c) => hasCapability(root, c as 'cap_sys_ptrace'))).toEqual([true, true]);
    expect([hasCapability(ptraceOnly, 'cap_sys_ptrace'), hasCapability(ptraceOnly, 'cap_dac_read_search')]).toEqual([true, false]);
    expect(parseEffectiveCapabilities('Name:\tx\n')).toBe(0n);
  });
});

describe('the two readers of a process', () => {
  /** What ProcessInfo holds, from a ProcessReader record (which carries more). */
  const asInfo = ({ pid, ppid, comm, kernelThread, startTicks, uid, euid, exe, cpuSeconds, rssBytes }: ProcessInfo): ProcessInfo => ({
    pid,
    ppid,
    comm,
    kernelThread,
    startTicks,
    uid,
    euid,
    exe,
    cpuSeconds,
    rssBytes,
  });

  it('agree on every field and every count for a fixture procfs', async () => {
    // The collector's tree: it has the command lines the processes collector reads too.
    const tree = new URL('../fixtures/processes/proc', import.meta.url).pathname;
    const reader = new ProcessReader(tree);
    const snapshot = await reader.readAll();
    reader.close();
    const table = readProcessTable(tree);
    expect(table.processes).toHaveLength(13);
    expect(snapshot.processes.map(asInfo)).toEqual(table.processes);
    expect([snapshot.races, snapshot.denied, snapshot.malformed]).toEqual([table.races, table.denied, table.malformed]);
  });
});

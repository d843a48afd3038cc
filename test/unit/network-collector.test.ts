import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CollectorDefinition } from '../../src/collectors/collector.js';
import { networkCollector } from '../../src/collectors/network.js';
import { Exporter } from '../../src/exporter.js';
import { createLogger, silentLogger, type Logger } from '../../src/log/logger.js';
import { scanDescriptors } from '../../src/network/descriptor-scan.js';
import { observeNetwork } from '../../src/network/observe.js';
import type { NetworkSnapshot } from '../../src/network/snapshot.js';
import { SocketOwnerIndex } from '../../src/network/socket-owner-index.js';
import { kernelDefaultEphemeralPorts } from '../../src/procfs/local-ports.js';
import { socketStates, type NetSocket } from '../../src/procfs/net.js';
import { Slicer } from '../../src/scheduler/slicer.js';
import { UserDirectory } from '../../src/rootfs/users.js';
import { tempDir } from '../helpers/cli.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';

const procfs = new URL('../fixtures/proc', import.meta.url).pathname;
const rootfs = new URL('../fixtures/rootfs', import.meta.url).pathname;

function exporterOn(
  paths: { procfs: string; rootfs: string },
  policy: string,
  collectors: CollectorDefinition[] = [networkCollector],
  log: Logger = silentLogger,
): Exporter {
  const stateDir = tempDir();
  const policyFile = `${stateDir}/policy.yml`;
  writeFileSync(policyFile, policy);
  return new Exporter({
    paths: { ...paths, stateDir },
    policyFile,
    collectors,
    maxFindingSeries: 100,
    log,
    build: { version: '0.0.0', revision: 'test' },
  });
}

const fixturePolicy = `listeners:
  allow:
    - port: 22
      exe: /usr/sbin/sshd
    - port: 68
      protocol: udp
    - port: 5353
      protocol: udp
      exe: /usr/lib/systemd/systemd
    - port: 9090
      address: loopback
outbound:
  allow:
    - cidr: 10.0.0.0/8
`;

describe('the network collector on a fixture procfs', () => {
  it('reports each unexpected listener with its owner and reason, and each unexpected connection', async () => {
    const exporter = exporterOn({ procfs, rootfs }, fixturePolicy);
    const { result, exposition } = await exporter.snapshot();
    const subjects = result.findings.map((f) => `${f.kind} ${Object.values(f.subject).join(' ')}`).sort();
    expect(subjects).toEqual([
      'unexpected_listener tcp any 22 /tmp/.cache/x www-data unexpected_program',
      'unexpected_listener tcp any 4444 /tmp/.cache/x www-data not_allowed',
      'unexpected_listener tcp loopback 631 unknown unknown not_allowed',
      'unexpected_listener tcp loopback 8080 /tmp/.cache/x www-data not_allowed',
      'unexpected_listener udp any 51820 kernel unknown not_allowed',
      'unexpected_outbound tcp /tmp/.cache/x www-data not_allowed public 203.0.113.9 443',
      'unexpected_outbound udp /tmp/.cache/x www-data not_allowed public 8.8.8.8 53',
    ]);
    const samples = parseExposition(exposition);
    expect(sampleValue(samples, 'hostguard_network_listeners', { protocol: 'tcp', family: 'ipv4' })).toBe(3);
    expect(sampleValue(samples, 'hostguard_network_listeners', { protocol: 'tcp', family: 'ipv6' })).toBe(3);
    expect(sampleValue(samples, 'hostguard_network_listeners', { protocol: 'udp', family: 'ipv4' })).toBe(2);
    expect(sampleValue(samples, 'hostguard_network_listeners', { protocol: 'udp', family: 'ipv6' })).toBe(2);
    expect(sampleValue(samples, 'hostguard_network_unexpected_listeners', { protocol: 'tcp', reason: 'unexpected_program' })).toBe(1);
    expect(sampleValue(samples, 'hostguard_network_unexpected_listeners', { protocol: 'tcp', reason: 'not_allowed' })).toBe(3);
    expect(
      sampleValue(samples, 'hostguard_network_unexpected_listener', {
        protocol: 'tcp',
        address: 'any',
        port: '22',
        exe: '/tmp/.cache/x',
        user_class: 'system',
        reason: 'unexpected_program',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'hostguard_network_unexpected_outbound_connection', {
        protocol: 'tcp',
        exe: '/tmp/.cache/x',
        reason: 'not_allowed',
        remote_class: 'public',
        remote_port: '443',
      }),
    ).toBe(1);
    expect(sampleValue(samples, 'hostguard_network_outbound_connections', { protocol: 'tcp' })).toBe(1);
    expect(sampleValue(samples, 'hostguard_network_sockets_owner_unknown', { cause: 'not_found' })).toBe(1);
    expect(sampleValue(samples, 'hostguard_network_read_problems_total', { problem: 'malformed_line' })).toBe(4);
    expect(sampleValue(samples, 'hostguard_findings', { collector: 'network', kind: 'hidden_port' })).toBe(0);
    expect(sampleValue(samples, 'hostguard_network_hidden_port_sweep_last_timestamp_seconds')).toBe(0);
    // No label carries a pid, a remote address or a user name.
    const labelValues = samples.filter((s) => s.name.startsWith('hostguard_network_')).flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => ['4242', '203.0.113.9', '8.8.8.8', 'www-data'].includes(v))).toEqual([]);
  });

  it('maps sockets to processes once: later collections on a steady host read no descriptor table', async () => {
    const exporter = exporterOn({ procfs, rootfs }, fixturePolicy);
    await exporter.snapshot();
    const first = await exporter.snapshot();
    const second = await exporter.snapshot();
    expect(sampleValue(first.exposition, 'hostguard_network_fd_scans_total')).toBe(1);
    expect(sampleValue(second.exposition, 'hostguard_network_fd_scans_total')).toBe(1);
    expect(second.result.findings).toEqual(first.result.findings);
  });

  it('accepts the learned listeners; without an outbound section only unusual connections are judged', async () => {
    const exporter = exporterOn({ procfs, rootfs }, 'listeners:\n  allow: []\n');
    await exporter.acceptCurrentState('operator');
    expect(Object.keys(exporter.context().baseline?.network ?? {}).sort()).toEqual([
      'outbound',
      'tcp/any/22',
      'tcp/any/4444',
      'tcp/loopback/631',
      'tcp/loopback/8080',
      'tcp/loopback/9090',
      'udp/2001:db8::5/5353',
      'udp/any/51820',
      'udp/any/5353',
      'udp/any/68',
    ]);
    const { result, exposition } = await exporter.snapshot();
    // /tmp/.cache/x calls out, but neither is it a shell, interpreter or network tool nor did a processes collector flag it.
    expect(result.findings).toEqual([]);
    expect(sampleValue(exposition, 'hostguard_network_outbound_connections', { protocol: 'tcp' })).toBe(1);
    expect(
      sampleValue(exposition, 'hostguard_network_unexpected_outbound_connections', { protocol: 'tcp', reason: 'flagged_process' }),
    ).toBe(0);

    // With nothing judged, the series are absent and the tables are read up to the listeners.
    const quiet = exporterOn({ procfs, rootfs }, 'outbound:\n  judge: unusual\n  flagged_processes: false\n  new_destinations: false\n');
    const none = await quiet.snapshot();
    expect(sampleValue(none.exposition, 'hostguard_network_outbound_connections', { protocol: 'tcp' })).toBeUndefined();
    expect(sampleValue(none.exposition, 'hostguard_network_presumed_accepted_connections', { protocol: 'tcp' })).toBeUndefined();
  });
});

describe('the direction of connections no listener explains', () => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const line = (local: string, remote: string, inode: number) =>
    `   0: ${local} ${remote} 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

  it("a stopped server's session on a port the policy allows is not outbound, by the host's range or, unreadable, the kernel default, said once", async () => {
    const dir = tempDir();
    mkdirSync(`${dir}/net`);
    // 10.0.2.15:22 <- 198.51.100.7:41234, left by an sshd that stopped before the exporter started; 10.0.2.15:45000 -> 203.0.113.9:443.
    writeFileSync(`${dir}/net/tcp`, header + line('0F02000A:0016', '076433C6:A112', 2001) + line('0F02000A:AFC8', '097100CB:01BB', 2002));
    const warnings: string[] = [];
    const log = createLogger({ level: 'warn', format: 'logfmt', write: (l) => warnings.push(l) });
    // Port 22 is allowed for any program, so the session passes though no process in this procfs holds it.
    const policy = 'listeners:\n  allow:\n    - port: 22\n      protocol: tcp\noutbound:\n  allow: []\n';
    const exporter = exporterOn({ procfs: dir, rootfs }, policy, [networkCollector], log);
    const remotes = (findings: readonly { kind: string; subject: Record<string, unknown> }[]) =>
      findings.filter((f) => f.kind === 'unexpected_outbound').map((f) => `${f.subject.remote_address}:${f.subject.remote_port}`);

    const first = await exporter.snapshot();
    await exporter.snapshot();
    expect(remotes(first.result.findings)).toEqual(['203.0.113.9:443']);
    expect(sampleValue(first.exposition, 'hostguard_network_presumed_accepted_connections', { protocol: 'tcp' })).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot read the ephemeral port range.*range=32768-60999.*ip_local_port_range/);

    // A host whose range takes in port 22 (read every collection): the session can no longer be told from a client's.
    mkdirSync(`${dir}/sys/net/ipv4`, { recursive: true });
    writeFileSync(`${dir}/sys/net/ipv4/ip_local_port_range`, '20\t65535\n');
    const widened = await exporter.snapshot();
    expect(remotes(widened.result.findings).sort()).toEqual(['198.51.100.7:41234', '203.0.113.9:443']);
    expect(sampleValue(widened.exposition, 'hostguard_network_presumed_accepted_connections', { protocol: 'tcp' })).toBe(0);
    expect(warnings).toHaveLength(1);
  });
});

describe('socket owners across collections', () => {
  function fakeProc(): { dir: string; hold: (pid: number, fd: number, inode: number) => void; drop: (pid: number, fd: number) => void } {
    const dir = tempDir();
    return {
      dir,
      hold(pid, fd, inode) {
        mkdirSync(`${dir}/${pid}/fd`, { recursive: true });
        symlinkSync(`socket:[${inode}]`, `${dir}/${pid}/fd/${fd}`);
      },
      drop(pid, fd) {
        rmSync(`${dir}/${pid}/fd/${fd}`);
      },
    };
  }

  it('re-checks a mapped socket with one link read, and rescans only when its holder let go of it', async () => {
    const proc = fakeProc();
    proc.hold(10, 3, 777);
    proc.hold(20, 4, 888);
    const index = new SocketOwnerIndex(proc.dir);
    const present = new Set([777, 888]);
    const first = await index.lookup([777], [888], present);
    expect(first.scan?.processes).toBe(2);
    expect(Object.fromEntries(first.holders)).toEqual({ 777: [{ pid: 10, fd: 3 }], 888: [{ pid: 20, fd: 4 }] });
    expect((await index.lookup([777], [888], present)).scan).toBeUndefined();

    // The listener is handed to another process (fd passing, or the first one exited).
    proc.drop(10, 3);
    proc.hold(30, 5, 777);
    const moved = await index.lookup([777], [888], present);
    expect(moved.scan).toBeDefined();
    expect(moved.holders.get(777)).toEqual([{ pid: 30, fd: 5 }]);
  });

  it('finds every holder of a listener (master and workers), one holder of a connection', async () => {
    const proc = fakeProc();
    for (const pid of [10, 11, 12]) proc.hold(pid, 3, 777);
    proc.hold(13, 9, 888);
    proc.hold(14, 9, 888);
    const index = new SocketOwnerIndex(proc.dir);
    expect((await index.lookup([777], [], new Set([777]))).holders.get(777)?.map((h) => h.pid)).toEqual([12, 11, 10]);
    const connection = await index.lookup([], [888], new Set([777, 888]));
    expect(connection.holders.get(888)).toHaveLength(1);
    expect(connection.scan?.complete).toBe(false);
  });

  it('a process started after the listener was mapped and sharing it (an implant inheriting port 443) is its holder too', async () => {
    const proc = fakeProc();
    proc.hold(10, 3, 777);
    const index = new SocketOwnerIndex(proc.dir, { now: () => 0 });
    const present = new Set([777]);
    expect((await index.lookup([777], [], present)).holders.get(777)).toEqual([{ pid: 10, fd: 3 }]);
    // Steady: nothing new, nothing read.
    expect((await index.lookup([777], [], present)).scan).toBeUndefined();

    proc.hold(11, 3, 777);
    const shared = await index.lookup([777], [], present);
    expect(shared.holders.get(777)).toEqual([
      { pid: 10, fd: 3 },
      { pid: 11, fd: 3 },
    ]);
    expect(shared.scan?.processes).toBe(1);
    expect((await index.lookup([777], [], present)).scan).toBeUndefined();
  });

  it('a connection search reads every new process (each may hold a mapped socket too) and stops there, the older ones left unread', async () => {
    const proc = fakeProc();
    proc.hold(10, 3, 777);
    proc.hold(5, 4, 888);
    proc.hold(6, 4, 889);
    const index = new SocketOwnerIndex(proc.dir, { now: () => 0 });
    await index.lookup([777], [], new Set([777]));
    // Two new processes, one holding the connection, the other the listener: both read, nothing else.
    proc.hold(30, 6, 999);
    proc.hold(20, 7, 777);
    const found = await index.lookup([777], [999], new Set([777, 999]));
    expect([found.scan?.processes, found.holders.get(999)]).toEqual([2, [{ pid: 30, fd: 6 }]]);
    expect(found.holders.get(777)?.map((h) => h.pid)).toEqual([10, 20]);
    expect((await index.lookup([777], [999], new Set([777, 999]))).scan).toBeUndefined();
  });

  it('a scan cut into slices finds every holder a scan in one go finds, and stops a connection search as early', async () => {
    const proc = fakeProc();
    for (let pid = 10; pid < 30; pid++) proc.hold(pid, 3, 777);
    const lookups = async (index: SocketOwnerIndex) => {
      const listener = await index.lookup([777], [], new Set([777]));
      // A connection held by one of two new processes and by the oldest one: found among the new ones, the scan stops.
      proc.hold(40, 6, 555);
      proc.hold(41, 7, 999);
      proc.hold(10, 6, 999);
      const connection = await index.lookup([], [999], new Set([777, 999]));
      for (const pid of [40, 41]) rmSync(`${proc.dir}/${pid}`, { recursive: true });
      proc.drop(10, 6);
      return { listener, connection };
    };
    const order: string[] = [];
    setImmediate(() => order.push('event loop ran'));
    const sliced = await lookups(new SocketOwnerIndex(proc.dir, { now: () => 0, sliceMs: 0 }));
    order.push('sliced scans done');
    const inOneGo = await lookups(new SocketOwnerIndex(proc.dir, { now: () => 0, sliceMs: Number.POSITIVE_INFINITY }));
    expect(order).toEqual(['event loop ran', 'sliced scans done']);
    expect([sliced.listener.scan?.yielded, inOneGo.listener.scan?.yielded]).toEqual([true, false]);
    const withoutYield = (lookup: typeof sliced.listener) => ({ ...lookup, scan: lookup.scan && { ...lookup.scan, yielded: undefined } });
    expect([withoutYield(sliced.listener), withoutYield(sliced.connection)]).toEqual([
      withoutYield(inOneGo.listener),
      withoutYield(inOneGo.connection),
    ]);
    expect(sliced.listener.holders.get(777)).toHaveLength(20);
    expect([sliced.connection.holders.get(999), sliced.connection.scan?.processes]).toEqual([[{ pid: 41, fd: 7 }], 2]);
  });

  it('every rescan interval all processes are read again: a listener passed to a process already seen is found', async () => {
    const proc = fakeProc();
    proc.hold(10, 3, 777);
    proc.hold(12, 1, 555);
    let now = 0;
    const index = new SocketOwnerIndex(proc.dir, { fullRescanMs: 60_000, now: () => now });
    const present = new Set([777]);
    await index.lookup([777], [], present);
    // Process 12 was read already: receiving the descriptor over a unix socket makes it no new process.
    proc.hold(12, 8, 777);
    now = 59_000;
    expect((await index.lookup([777], [], present)).holders.get(777)).toEqual([{ pid: 10, fd: 3 }]);
    now = 60_000;
    const rescanned = await index.lookup([777], [], present);
    expect(rescanned.scan?.processes).toBe(2);
    expect(rescanned.holders.get(777)?.map((h) => h.pid)).toEqual([12, 10]);
  });

  it('each socket whose owner is unknown keeps its own cause: denied only when tables were closed to us while it was looked for', async () => {
    const proc = fakeProc();
    proc.hold(10, 3, 777);
    // A descriptor table that cannot be listed stands in for another user's (tests run as root, whom chmod does not stop).
    mkdirSync(`${proc.dir}/50`);
    writeFileSync(`${proc.dir}/50/fd`, '');
    const socket = (inode: number, localPort: number, state: number, remoteAddress = '0.0.0.0', remotePort = 0): NetSocket => ({
      protocol: 'tcp',
      family: 4,
      localAddress: '0.0.0.0',
      localPort,
      remoteAddress,
      remotePort,
      state,
      uid: 0,
      inode,
    });
    let sockets = [socket(777, 22, socketStates.listen), socket(999, 4444, socketStates.listen)];
    const index = new SocketOwnerIndex(proc.dir, { now: () => 0 });
    const observe = () =>
      observeNetwork({
        procfs: proc.dir,
        index,
        users: new UserDirectory(rootfs),
        connections: { watchLoopback: false, ephemeralPorts: kernelDefaultEphemeralPorts, needsOwner: () => true, stdio: false },
        readTables: () => ({ sockets, malformedLines: 0, missingTables: [] }),
      });
    const cause = (snapshot: NetworkSnapshot, inode: number) => {
      const ownership = [...snapshot.listeners, ...snapshot.connections].find((s) => s.inode === inode)?.ownership;
      return ownership?.kind === 'unknown' ? ownership.reason : ownership?.kind;
    };
    expect(cause(await observe(), 999)).toBe('denied');

    // The unreadable process is gone; a connection appears that no process holds.
    rmSync(`${proc.dir}/50`, { recursive: true });
    sockets = [...sockets, socket(888, 40000, socketStates.established, '203.0.113.9', 443)];
    const later = await observe();
    expect(later.problems.fdDenied).toBe(0);
    expect([cause(later, 999), cause(later, 888)]).toEqual(['denied', 'not_found']);
  });

  it('a scan that was cut pauses once more at its end, so the work after it starts a slice of its own; one that was not, does not', async () => {
    const proc = fakeProc();
    const pids = [10, 11, 12, 13, 14];
    for (const pid of pids) proc.hold(pid, 3, 777);
    const cut = new Slicer(0);
    expect((await scanDescriptors(proc.dir, pids, new Set([777]), () => false, cut)).stats.yielded).toBe(true);
    // One pause before each process, and one after the last.
    expect(cut.yielded).toBe(pids.length + 1);
    const whole = new Slicer(Number.POSITIVE_INFINITY);
    expect((await scanDescriptors(proc.dir, pids, new Set([777]), () => false, whole)).stats.yielded).toBe(false);
    expect(whole.yielded).toBe(0);
  });

  it('a holder that lets go of a listener while the scan yields is not named its owner: its pid may be another program by then', async () => {
    const proc = fakeProc();
    const details = (pid: number, exe: string) => {
      for (const file of ['stat', 'statm', 'status']) copyFileSync(`${procfs}/1/${file}`, `${proc.dir}/${pid}/${file}`);
      rmSync(`${proc.dir}/${pid}/exe`, { force: true });
      symlinkSync(exe, `${proc.dir}/${pid}/exe`);
    };
    // The highest pid is read first; the others make the scan look at the clock, and yield (slices of 0 ms).
    proc.hold(90, 3, 777);
    details(90, '/usr/sbin/sshd');
    for (let pid = 10; pid < 20; pid++) proc.hold(pid, 1, 100 + pid);
    const listener: NetSocket = {
      protocol: 'tcp',
      family: 4,
      localAddress: '0.0.0.0',
      localPort: 22,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      state: socketStates.listen,
      uid: 0,
      inode: 777,
    };
    const observe = () =>
      observeNetwork({
        procfs: proc.dir,
        index: new SocketOwnerIndex(proc.dir, { now: () => 0, sliceMs: 0 }),
        users: new UserDirectory(rootfs),
        readTables: () => ({ sockets: [listener], malformedLines: 0, missingTables: [] }),
      });
    const owners = (snapshot: NetworkSnapshot) => {
      const { ownership } = snapshot.listeners[0]!;
      return ownership.kind === 'known' ? ownership.owners.map((o) => o.exe) : ownership.kind;
    };
    expect(owners(await observe())).toEqual(['/usr/sbin/sshd']);

    // While the scan lets the event loop run, sshd exits and its pid goes to another program.
    setImmediate(() => {
      proc.drop(90, 3);
      details(90, '/tmp/.x/miner');
    });
    const snapshot = await observe();
    expect(owners(snapshot)).toBe('unknown');
    expect(snapshot.problems.processesGone).toBe(1);
  });

  it("a connection whose ports look like a closed server's session has its owner looked up even when no outbound rule needs it", async () => {
    const proc = fakeProc();
    proc.hold(10, 3, 801);
    proc.hold(10, 4, 802);
    const connection = (inode: number, localPort: number, remotePort: number): NetSocket => ({
      protocol: 'tcp',
      family: 4,
      localAddress: '10.0.2.15',
      localPort,
      remoteAddress: '203.0.113.9',
      remotePort,
      state: socketStates.established,
      uid: 0,
      inode,
    });
    const snapshot = await observeNetwork({
      procfs: proc.dir,
      index: new SocketOwnerIndex(proc.dir, { now: () => 0 }),
      users: new UserDirectory(rootfs),
      connections: { watchLoopback: false, ephemeralPorts: kernelDefaultEphemeralPorts, needsOwner: () => false, stdio: false },
      readTables: () => ({ sockets: [connection(801, 8080, 50000), connection(802, 45000, 443)], malformedLines: 0, missingTables: [] }),
    });
    // Process 10 of this fake procfs has no details to read: looked up, its owner is unknown rather than not looked up.
    expect(snapshot.connections.map((c) => [c.inode, c.maybeAccepted, c.ownership.kind])).toEqual([
      [801, true, 'unknown'],
      [802, false, 'not_looked_up'],
    ]);
  });

  it('does not rescan for a socket no process holds until its retry time, and forgets closed sockets', async () => {
    const proc = fakeProc();
    proc.hold(10, 3, 777);
    let now = 0;
    const index = new SocketOwnerIndex(proc.dir, { unownedRetryMs: 1000, now: () => now });
    const present = new Set([777, 999]);
    expect((await index.lookup([777, 999], [], present)).notFound).toEqual(new Map([[999, 'not_found']]));
    now = 500;
    const cached = await index.lookup([777, 999], [], present);
    expect([cached.scan, cached.notFound]).toEqual([undefined, new Map([[999, 'not_found']])]);
    now = 1500;
    expect((await index.lookup([777, 999], [], present)).scan).toBeDefined();
    // Closed, then a new socket reuses nothing: the entry is gone with it.
    expect((await index.lookup([777], [], new Set([777]))).scan).toBeUndefined();
  });
});

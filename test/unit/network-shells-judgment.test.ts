import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/config/load-policy.js';
import { defaultNetworkTools, type OutboundPolicy } from '../../src/config/sections/outbound.js';
import { defaultInterpreters } from '../../src/config/sections/processes.js';
import type { ShellOnSocketPolicy } from '../../src/config/sections/shell-on-socket.js';
import { destinationClass } from '../../src/network/destination-class.js';
import { FlaggedTraffic, type FlaggedConnection } from '../../src/network/flagged-traffic.js';
import { judgeOutbound, outboundFindings, type FlaggedProcess, type OutboundJudgment } from '../../src/network/judge-outbound.js';
import { readListenerBaseline } from '../../src/network/judge-listeners.js';
import { judgeShellOnSocket, shellOnSocketFindings } from '../../src/network/judge-shell-on-socket.js';
import { observeNetwork } from '../../src/network/observe.js';
import { learnOutbound, outboundKey, readOutboundBaseline } from '../../src/network/outbound-baseline.js';
import { programClassOf } from '../../src/network/program-class.js';
import type { ObservedSocket, Ownership, SocketOnStdio, SocketOwner } from '../../src/network/snapshot.js';
import { SocketOwnerIndex } from '../../src/network/socket-owner-index.js';
import { parseSsTcpInfo, ssFilter, type TcpInfoRead } from '../../src/network/tcp-info.js';
import { kernelDefaultEphemeralPorts } from '../../src/procfs/local-ports.js';
import { socketStates, type NetSocket } from '../../src/procfs/net.js';
import { UserDirectory } from '../../src/rootfs/users.js';
import { tempDir } from '../helpers/cli.js';

/**
 * The network judgment of shells on sockets and of outgoing connections by default, with plain
 * objects: what each verdict depends on (the program's class, who holds the listener, the
 * processes collector's flags, the learned destinations).
 */

const programs = { interpreters: defaultInterpreters, networkTools: defaultNetworkTools };
const policyOf = (yaml: string) => parsePolicy(yaml, 'p.yml').policy;
const defaults = policyOf('');

const owner = (pid: number, exe: string, user = 'www-data'): SocketOwner => ({ pid, exe, uid: 33, user, userClass: 'system', self: false });
const bash = owner(4300, '/usr/bin/bash');
const python = owner(4301, '/usr/bin/python3.11');
const implant = owner(4302, '/tmp/.x/agent');
const curl = owner(4303, '/usr/bin/curl');
const owned = (...owners: SocketOwner[]): Ownership => ({ kind: 'known', owners });

let nextInode = 9000;
function tcp(local: string, localPort: number, remote: string, remotePort: number, state: number = socketStates.established): NetSocket {
  return {
    protocol: 'tcp',
    family: remote.includes(':') ? 6 : 4,
    localAddress: local,
    localPort,
    remoteAddress: remote,
    remotePort,
    state,
    uid: 33,
    inode: nextInode++,
  };
}

function onStdio(who: SocketOwner, socket: NetSocket, role: SocketOnStdio['role'], listener?: Ownership, fds = [0, 1, 2]): SocketOnStdio {
  return { owner: who, fds, socket, role, listener };
}

describe('destination classes', () => {
  it("name an address by the policy's networks first, then by the built-in classes", () => {
    const outbound = policyOf('outbound:\n  networks:\n    - { name: corp-db, cidr: [10.20.0.0/16] }\n').outbound;
    const classes = Object.fromEntries(
      [
        '10.20.1.5',
        '10.1.2.3',
        '172.16.0.1',
        '172.32.0.1',
        '192.168.1.1',
        '100.64.1.1',
        'fd12::1',
        '169.254.169.254',
        'fd00:ec2::254',
        '169.254.1.1',
        'fe80::1',
        '224.0.0.251',
        'ff02::fb',
        '127.0.0.1',
        '::1',
        '::ffff:10.0.0.1',
        '8.8.8.8',
        '2001:4860::8888',
        'not-an-address',
      ].map((a) => [a, destinationClass(a, outbound)]),
    );
    expect(classes).toEqual({
      '10.20.1.5': 'corp-db',
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '172.32.0.1': 'public',
      '192.168.1.1': 'private',
      '100.64.1.1': 'private',
      'fd12::1': 'private',
      '169.254.169.254': 'metadata',
      'fd00:ec2::254': 'metadata',
      '169.254.1.1': 'link_local',
      'fe80::1': 'link_local',
      '224.0.0.251': 'multicast',
      'ff02::fb': 'multicast',
      '127.0.0.1': 'loopback',
      '::1': 'loopback',
      '::ffff:10.0.0.1': 'private',
      '8.8.8.8': 'public',
      '2001:4860::8888': 'public',
      'not-an-address': 'unknown',
    });
  });

  it('may not take a built-in name, and are checked at load', () => {
    expect(() => policyOf('outbound:\n  networks:\n    - { name: public, cidr: 10.0.0.0/8 }\n')).toThrow(
      /outbound\.networks\[0\]\.name: not one of the built-in classes/,
    );
    expect(() => policyOf('outbound:\n  networks:\n    - { name: Corp DB, cidr: 10.0.0.0/8 }\n')).toThrow(
      /outbound\.networks\[0\]\.name: a short lowercase name/,
    );
    expect(() => policyOf('processes:\n  interpreters: [/usr/bin/python3]\n')).toThrow(
      /processes\.interpreters\[0\]: a program's file name or a glob of it/,
    );
  });
});

describe('program classes', () => {
  it("come from the executable's file name: shells and interpreters, network tools, the rest", () => {
    const classOf = (exe: string | undefined) => programClassOf(exe, programs);
    expect(
      [
        '/usr/bin/bash',
        '/usr/bin/dash',
        '/usr/bin/python3.11',
        '/usr/bin/perl',
        '/usr/bin/mawk',
        '/usr/bin/php8.2',
        '/bin/busybox',
        '/tmp/bash',
      ].map(classOf),
    ).toEqual(Array(8).fill('interpreter'));
    expect(['/usr/bin/ncat', '/usr/bin/nc.openbsd', '/usr/bin/socat', '/usr/bin/telnet.netkit'].map(classOf)).toEqual(
      Array(4).fill('network_tool'),
    );
    expect(['/usr/bin/curl', '/usr/sbin/sshd', '/usr/lib/apt/methods/http', undefined].map(classOf)).toEqual(Array(4).fill('other'));
  });
});

describe('shell_on_socket', () => {
  const policy = defaults.shell_on_socket;
  const systemdOwner = owner(1, '/usr/lib/systemd/systemd', 'root');
  const inetd = owner(700, '/usr/sbin/inetd', 'root');
  const judge = (stdio: SocketOnStdio[], p: ShellOnSocketPolicy = policy) =>
    shellOnSocketFindings(judgeShellOnSocket(stdio, p, programs), defaults.outbound);

  it("a shell on a connection it opened is a critical reverse shell, with the peer's class and port and the streams in the message", () => {
    const socket = tcp('10.0.2.15', 41000, '203.0.113.9', 4444);
    const [found, ...rest] = judge([onStdio(bash, socket, 'outgoing')]);
    expect(rest).toEqual([]);
    expect(found).toEqual({
      collector: 'network',
      kind: 'shell_on_socket',
      severity: 'critical',
      subject: {
        exe: '/usr/bin/bash',
        user: 'www-data',
        program_class: 'interpreter',
        protocol: 'tcp',
        direction: 'outgoing',
        remote_class: 'public',
        port: 4444,
        remote_address: '203.0.113.9',
      },
      message:
        '/usr/bin/bash (pid 4300) has its standard input, output and error on a tcp connection it opened to 203.0.113.9:4444: a reverse shell',
    });
  });

  it("systemd as the parent proves nothing: a unit's reverse shell has no listener of systemd's behind it", () => {
    // Started by systemd (a persistence unit), but the socket is one the shell opened.
    expect(judge([onStdio(bash, tcp('10.0.2.15', 41001, '203.0.113.9', 443), 'outgoing', owned(systemdOwner))]).map((f) => f.kind)).toEqual(
      ['shell_on_socket'],
    );
  });

  it('a connection a super-server accepted (inetd, systemd Accept=yes) or its own bound socket (an inetd wait service) is expected', () => {
    const accepted = tcp('10.0.2.15', 23, '198.51.100.4', 50123);
    const telnetd = owner(800, '/usr/sbin/in.telnetd', 'root');
    expect(judge([onStdio(telnetd, accepted, 'incoming', owned(inetd))])).toEqual([]);
    expect(
      judge([onStdio(owner(801, '/usr/sbin/sshd', 'root'), tcp('10.0.2.15', 22, '198.51.100.4', 50124), 'incoming', owned(systemdOwner))]),
    ).toEqual([]);
    const tftp = { ...tcp('0.0.0.0', 69, '0.0.0.0', 0, socketStates.close), protocol: 'udp' as const };
    expect(
      judge([
        onStdio(owner(802, '/usr/sbin/in.tftpd', 'root'), tftp, 'listening', owned(inetd, owner(802, '/usr/sbin/in.tftpd', 'root')), [0]),
      ]),
    ).toEqual([]);
  });

  it("a bind shell's listener held by the shell itself, or by a program the policy does not name, is no super-server", () => {
    const nc = owner(900, '/usr/bin/nc.traditional');
    const session = tcp('10.0.2.15', 31337, '198.51.100.4', 50125);
    expect(
      judge([onStdio({ ...bash, pid: 901 }, session, 'incoming', owned(nc))]).map((f) => [f.severity, f.subject.direction, f.subject.port]),
    ).toEqual([['critical', 'incoming', 31337]]);
    // The super-server must be another process: a listening socket held by the shell alone.
    const listening = tcp('0.0.0.0', 31338, '0.0.0.0', 0, socketStates.listen);
    const found = judge([onStdio(bash, listening, 'listening', owned(bash), [0])]);
    expect(found.map((f) => [f.subject.direction, f.subject.remote_class, f.subject.remote_address, f.message])).toEqual([
      [
        'listening',
        'none',
        '',
        '/usr/bin/bash (pid 4300) has its standard input on a tcp socket listening on port 31338, which no super-server holds',
      ],
    ]);
  });

  it('another program on a socket is a warning; allow rules and the switch are honoured', () => {
    const cat = owner(910, '/usr/bin/cat');
    const session = tcp('10.0.2.15', 7000, '198.51.100.4', 50126);
    expect(
      judge([onStdio(cat, session, 'incoming', undefined, [0, 1])]).map((f) => [f.severity, f.subject.program_class, f.message]),
    ).toEqual([
      [
        'warning',
        'other',
        '/usr/bin/cat (pid 910) has its standard input and output on a tcp connection from 198.51.100.4:50126 accepted on port 7000, which no super-server listens on: a bind shell',
      ],
    ]);
    const allow = (rule: string) => policyOf(`shell_on_socket:\n  allow:\n    - ${rule}\n`).shell_on_socket;
    expect(judge([onStdio(cat, session, 'incoming')], allow('{ exe: /usr/bin/cat, port: 7000 }'))).toEqual([]);
    expect(judge([onStdio(cat, session, 'incoming')], allow('{ exe: /usr/bin/cat, port: 7001 }'))).toHaveLength(1);
    expect(judge([onStdio(cat, session, 'incoming')], allow('{ exe: /usr/bin/cat, protocol: udp }'))).toHaveLength(1);
    expect(judge([onStdio(cat, session, 'incoming')], allow('{ exe: /usr/bin/cat, user: root }'))).toHaveLength(1);
    expect(judge([onStdio(cat, session, 'incoming')], policyOf('shell_on_socket:\n  enabled: false\n').shell_on_socket)).toEqual([]);
    expect(judge([onStdio({ ...cat, self: true }, session, 'incoming')])).toEqual([]);
  });

  it('one finding per program and socket end: two shells of one session, or three descriptors, are one', () => {
    const socket = tcp('10.0.2.15', 41002, '203.0.113.9', 4444);
    expect(
      judge([onStdio(bash, socket, 'outgoing', undefined, [0]), onStdio({ ...bash, pid: 4310 }, socket, 'outgoing', undefined, [1, 2])]),
    ).toHaveLength(1);
  });
});

describe('outgoing connections judged by default (judge: unusual)', () => {
  const flaggedImplant = new Map<number, FlaggedProcess>([
    [implant.pid, { exe: implant.exe!, kinds: ['writable_location', 'unknown_executable'] }],
  ]);
  const learnedPython = readOutboundBaseline(
    learnOutbound([{ exe: '/usr/bin/python3.11', protocol: 'tcp', class: 'private', port: 5432 }], undefined),
  ).baseline;
  const judgment = (overrides: Partial<OutboundJudgment> = {}): OutboundJudgment => ({
    policy: defaults.outbound,
    programs,
    flagged: flaggedImplant,
    baseline: learnedPython,
    ...overrides,
  });
  const connection = (who: SocketOwner | Ownership, remote: string, port: number): ObservedSocket => ({
    ...tcp('10.0.2.15', 40000 + (nextInode % 1000), remote, port),
    ownership: 'kind' in who ? who : owned(who),
  });
  const verdicts = (connections: ObservedSocket[], j = judgment()) =>
    judgeOutbound(connections, j).map(
      (u) =>
        `${u.connection.ownership.kind === 'known' ? u.connection.ownership.owners[0]!.exe : '?'} ${u.reason} ${u.remoteClass}:${u.connection.remotePort}`,
    );

  it('reports a flagged process calling out and an interpreter reaching a destination its baseline lacks; the rest is not judged', () => {
    expect(
      verdicts([
        connection(implant, '203.0.113.9', 443),
        connection(python, '10.1.2.3', 5432),
        connection(python, '203.0.113.9', 4444),
        connection(python, '10.1.2.3', 5433),
        connection(bash, '198.51.100.7', 4444),
        connection(curl, '203.0.113.9', 443),
        connection({ kind: 'unknown', reason: 'denied' }, '203.0.113.9', 443),
      ]),
    ).toEqual([
      '/tmp/.x/agent flagged_process public:443',
      '/usr/bin/python3.11 new_destination public:4444',
      '/usr/bin/python3.11 new_destination private:5433',
      '/usr/bin/bash new_destination public:4444',
    ]);
  });

  it('a pid the processes collector flagged that now runs another executable (reused) is not that process', () => {
    expect(verdicts([connection({ ...curl, pid: implant.pid }, '203.0.113.9', 443)])).toEqual([]);
  });

  it('an allow rule wins over both; judge: all reports whatever no rule allows; each default can be switched off', () => {
    const allowed = policyOf('outbound:\n  judge: unusual\n  allow:\n    - { cidr: 203.0.113.0/24, ports: [443] }\n').outbound;
    expect(verdicts([connection(implant, '203.0.113.9', 443)], judgment({ policy: allowed }))).toEqual([]);
    const all: OutboundPolicy = policyOf('outbound:\n  allow: []\n').outbound;
    expect(all.judge).toBe('all');
    expect(verdicts([connection(curl, '203.0.113.9', 443)], judgment({ policy: all }))).toEqual(['/usr/bin/curl not_allowed public:443']);
    const neither = policyOf('outbound:\n  judge: unusual\n  flagged_processes: false\n  new_destinations: false\n').outbound;
    expect(
      verdicts([connection(implant, '203.0.113.9', 443), connection(python, '203.0.113.9', 4444)], judgment({ policy: neither })),
    ).toEqual([]);
  });

  it('a baseline written before destinations were learned judges no destination new; without any baseline every one is', () => {
    const old = readOutboundBaseline({ 'tcp/any/22': { exe: ['/usr/sbin/sshd'] } }).baseline;
    expect(old.learned).toBe(false);
    const calls = [connection(implant, '203.0.113.9', 443), connection(python, '10.1.2.3', 5432)];
    expect(verdicts(calls, judgment({ baseline: old }))).toEqual(['/tmp/.x/agent flagged_process public:443']);
    expect(verdicts(calls, judgment({ baseline: undefined }))).toEqual([
      '/tmp/.x/agent flagged_process public:443',
      '/usr/bin/python3.11 new_destination private:5432',
    ]);
  });

  it('findings carry the reason and destination class; the address only in the subject', () => {
    const [finding] = outboundFindings(judgeOutbound([connection(python, '203.0.113.9', 4444)], judgment()));
    expect(finding).toMatchObject({
      kind: 'unexpected_outbound',
      severity: 'warning',
      subject: {
        protocol: 'tcp',
        exe: '/usr/bin/python3.11',
        user: 'www-data',
        reason: 'new_destination',
        remote_class: 'public',
        remote_address: '203.0.113.9',
        remote_port: 4444,
      },
    });
    expect(finding!.message).toBe(
      '/usr/bin/python3.11 (pid 4301) is connected to tcp 203.0.113.9:4444 (public), a destination the baseline never saw it use',
    );
  });
});

describe('the learned destinations in the baseline', () => {
  it('are one readable entry per program, protocol, class and port, beside the listeners, kept across updates', () => {
    const entry = { exe: '/usr/bin/python3.11', protocol: 'tcp' as const, class: 'private', port: 5432 };
    expect(outboundKey(entry)).toBe('outbound tcp/private/5432 /usr/bin/python3.11');
    const first = learnOutbound([entry], undefined);
    expect(first).toEqual({ outbound: {}, 'outbound tcp/private/5432 /usr/bin/python3.11': entry });
    const perl = { exe: '/usr/bin/perl', protocol: 'udp' as const, class: 'public', port: 53 };
    const section = { 'tcp/any/22': { exe: ['/usr/sbin/sshd'] }, ...first };
    expect(Object.keys(learnOutbound([perl], section)).sort()).toEqual([
      'outbound',
      'outbound tcp/private/5432 /usr/bin/python3.11',
      'outbound udp/public/53 /usr/bin/perl',
    ]);
    // The listeners' reader leaves them alone: they are not listener entries of the wrong shape.
    expect(readListenerBaseline(section)).toMatchObject({ invalid: 0 });
    expect([...readListenerBaseline(section).baseline!.keys()]).toEqual(['tcp/any/22']);
  });

  it('leave out entries of the wrong shape or whose key does not say what they hold, counting them', () => {
    const { baseline, invalid } = readOutboundBaseline({
      outbound: {},
      'outbound tcp/private/5432 /usr/bin/python3.11': { exe: '/usr/bin/python3.11', protocol: 'tcp', class: 'private', port: 5432 },
      'outbound tcp/public/4444 /usr/bin/python3.11': { exe: '/usr/bin/python3.11', protocol: 'tcp', class: 'private', port: 5432 },
      'outbound tcp/public/1 /usr/bin/x': { exe: '/usr/bin/x' },
    });
    expect([baseline.learned, [...baseline.destinations], invalid]).toEqual([true, ['outbound tcp/private/5432 /usr/bin/python3.11'], 2]);
  });
});

describe('the traffic of flagged connections', () => {
  const line =
    'ESTAB 0      0      10.203.98.1:45134 10.203.98.2:4444 ino:10453106 sk:100b cgroup:/ --> ts sack bbr wscale:10,10 rto:204 rtt:0.056/0.025 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:11 bytes_sent:1000 bytes_acked:1001 bytes_received:37 segs_out:4 segs_in:3 data_segs_out:1 send 2275428571bps lastsnd:1012';

  it('reads bytes acknowledged (less the SYN) and received by inode from `ss -tinHeO`; a connection that sent nothing has none', () => {
    const idle = 'ESTAB 0 0 10.0.0.1:1 10.0.0.2:2 ino:77 sk:1 --> ts sack cubic bytes_acked:1 segs_out:3';
    const bytes = parseSsTcpInfo(`${line}\n${idle}\nTIME-WAIT 0 0 10.0.0.1:3 10.0.0.2:4 timer:(timewait,59sec,0)\ngarbage\n`);
    expect(Object.fromEntries(bytes)).toEqual({ 10453106: { sent: 1000, received: 37 }, 77: { sent: 0, received: 0 } });
  });

  it("asks ss for the connections' ports, or for every socket past 64 connections", () => {
    const c = tcp('10.0.0.1', 40000, '10.0.0.2', 4444);
    expect(ssFilter([c, { ...c, inode: 1 }])).toBe('( sport = :40000 and dport = :4444 )');
    expect(ssFilter(Array.from({ length: 65 }, (_, i) => tcp('10.0.0.1', 40000 + i, '10.0.0.2', 4444)))).toBeUndefined();
  });

  it("adds what each connection carried since it was last read, a shell's connection under shell_on_socket; UDP and no TCP spawn nothing", async () => {
    const shell = tcp('10.0.0.1', 40001, '10.0.0.2', 4444);
    const outbound = tcp('10.0.0.1', 40002, '10.0.0.2', 443);
    const udp = { ...tcp('10.0.0.1', 40003, '10.0.0.2', 53), protocol: 'udp' as const };
    let counters = new Map([
      [shell.inode, { sent: 100, received: 10 }],
      [outbound.inode, { sent: 5, received: 7 }],
    ]);
    const asked: number[][] = [];
    let fail = false;
    const traffic = new FlaggedTraffic((connections) => {
      asked.push(connections.map((c) => c.inode));
      return Promise.resolve<TcpInfoRead>(fail ? { ok: false, problem: 'ss: not found' } : { ok: true, bytes: counters });
    });
    const flagged: FlaggedConnection[] = [
      { socket: shell, kind: 'unexpected_outbound' },
      { socket: shell, kind: 'shell_on_socket' },
      { socket: outbound, kind: 'unexpected_outbound' },
      { socket: udp, kind: 'unexpected_outbound' },
    ];
    expect((await traffic.measure(flagged)).deltas).toEqual({
      shell_on_socket: { sent: 100, received: 10 },
      unexpected_outbound: { sent: 5, received: 7 },
    });
    expect(asked).toEqual([[shell.inode, outbound.inode]]);

    counters = new Map([
      [shell.inode, { sent: 1100, received: 10 }],
      [outbound.inode, { sent: 5, received: 9 }],
    ]);
    fail = true;
    expect(await traffic.measure(flagged)).toEqual({
      deltas: { shell_on_socket: { sent: 0, received: 0 }, unexpected_outbound: { sent: 0, received: 0 } },
      measured: 0,
      problem: 'ss: not found',
    });
    fail = false;
    // After a failed read, the next one counts from the last good one.
    expect((await traffic.measure(flagged)).deltas).toEqual({
      shell_on_socket: { sent: 1000, received: 0 },
      unexpected_outbound: { sent: 0, received: 2 },
    });

    asked.length = 0;
    expect((await traffic.measure([{ socket: udp, kind: 'shell_on_socket' }])).measured).toBe(0);
    expect(asked).toEqual([]);
  });
});

describe('standard streams on a fake procfs', () => {
  /** A process of the fake procfs: the fixture's stat and status, its executable, and descriptors. */
  function fakeProcess(dir: string, pid: number, exe: string, fds: Record<number, string>): void {
    mkdirSync(`${dir}/${pid}/fd`, { recursive: true });
    const fixture = new URL('../fixtures/proc/4242', import.meta.url).pathname;
    for (const file of ['stat', 'statm', 'status']) copyFileSync(`${fixture}/${file}`, `${dir}/${pid}/${file}`);
    symlinkSync(exe, `${dir}/${pid}/exe`);
    for (const [fd, target] of Object.entries(fds)) symlinkSync(target, `${dir}/${pid}/fd/${fd}`);
  }

  it('a socket moved onto fd 0 after its holder was first read is found at the next collection, a unix socket never', async () => {
    const dir = tempDir();
    const reverse = tcp('10.0.2.15', 41000, '203.0.113.9', 4444);
    fakeProcess(dir, 4300, '/usr/bin/python3.11', { 0: '/dev/null', 1: 'socket:[555]', 3: `socket:[${reverse.inode}]` });
    const index = new SocketOwnerIndex(dir, { now: () => 0 });
    const observe = () =>
      observeNetwork({
        procfs: dir,
        index,
        users: new UserDirectory(new URL('../fixtures/rootfs', import.meta.url).pathname),
        connections: { watchLoopback: false, ephemeralPorts: kernelDefaultEphemeralPorts, stdio: true },
        readTables: () => ({ sockets: [reverse], malformedLines: 0, missingTables: [] }),
      });
    expect((await observe()).stdio).toEqual([]);

    // dup2 onto 0, 1 and 2 and close the original: the holder's descriptor moved.
    for (const fd of [0, 1, 3]) rmSync(`${dir}/4300/fd/${fd}`);
    for (const fd of [0, 1, 2]) symlinkSync(`socket:[${reverse.inode}]`, `${dir}/4300/fd/${fd}`);
    const moved = await observe();
    expect(moved.stdio.map((s) => [s.owner.pid, s.owner.exe, s.fds, s.socket.inode, s.role])).toEqual([
      [4300, '/usr/bin/python3.11', [0, 1, 2], reverse.inode, 'outgoing'],
    ]);
    // Learned where it is now: the next collection reads no descriptor table and still finds it.
    const again = await observe();
    expect([again.processesScanned, again.stdio.length]).toEqual([0, 1]);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policyError } from '../helpers/policy.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { listenersSectionSchema } from '../../src/config/sections/listeners.js';
import { outboundSectionSchema } from '../../src/config/sections/outbound.js';
import { AcceptedConnections, isListening, outgoingConnections } from '../../src/network/classify.js';
import {
  judgeListeners,
  learnListeners,
  listenerFindings,
  listenerKey,
  readListenerBaseline,
  type ListenerBaseline,
} from '../../src/network/judge-listeners.js';
import {
  judgeDirection,
  judgeOutbound,
  outboundFindings,
  outboundNeedsOwner,
  type OutboundJudgment,
} from '../../src/network/judge-outbound.js';
import type { OutboundPolicy } from '../../src/config/sections/outbound.js';
import { defaultInterpreters } from '../../src/config/sections/processes.js';
import { defaultNetworkTools } from '../../src/config/sections/outbound.js';
import type { ObservedConnection, ObservedSocket, Ownership, SocketOwner } from '../../src/network/snapshot.js';
import { kernelDefaultEphemeralPorts as linuxDefault, type EphemeralPorts } from '../../src/procfs/local-ports.js';
import type { NetSocket } from '../../src/procfs/net.js';

const sshd: SocketOwner = { pid: 100, exe: '/usr/sbin/sshd', uid: 0, user: 'root', userClass: 'root', self: false };
const implant: SocketOwner = { pid: 4242, exe: '/tmp/.cache/x', uid: 33, user: 'www-data', userClass: 'system', self: false };
const systemd: SocketOwner = { pid: 1, exe: '/usr/lib/systemd/systemd', uid: 0, user: 'root', userClass: 'root', self: false };
const owned = (...owners: SocketOwner[]): Ownership => ({ kind: 'known', owners });

let nextInode = 5000;
function listener(protocol: 'tcp' | 'udp', address: string, port: number, ownership: Ownership): ObservedSocket {
  return {
    protocol,
    family: address.includes(':') ? 6 : 4,
    localAddress: address,
    localPort: port,
    remoteAddress: address.includes(':') ? '::' : '0.0.0.0',
    remotePort: 0,
    state: protocol === 'tcp' ? 0x0a : 0x07,
    uid: 0,
    inode: nextInode++,
    ownership,
  };
}

function connection(
  remote: string,
  remotePort: number,
  ownership: Ownership,
  protocol: 'tcp' | 'udp' = 'tcp',
  localPort = 40000,
): ObservedSocket {
  return {
    protocol,
    family: remote.includes(':') ? 6 : 4,
    localAddress: remote.includes(':') ? '2001:db8::2' : '10.0.2.15',
    localPort,
    remoteAddress: remote,
    remotePort,
    state: 0x01,
    uid: 0,
    inode: nextInode++,
    ownership,
  };
}

const listeners = (yaml: string) => listenersSectionSchema.parse(parsePolicy(`listeners:\n${yaml}`, 'p.yml').policy.listeners);
const outbound = (yaml: string) => outboundSectionSchema.parse(parsePolicy(`outbound:\n${yaml}`, 'p.yml').policy.outbound);
/** Outgoing connections judged by `policy` alone: no flagged process, no baseline. */
const byRules = (policy: OutboundPolicy): OutboundJudgment => ({
  policy,
  programs: { interpreters: defaultInterpreters, networkTools: defaultNetworkTools },
  flagged: new Map(),
  baseline: undefined,
});
const reasons = (sockets: ObservedSocket[], policy: ReturnType<typeof listeners>, baseline?: ListenerBaseline) =>
  judgeListeners(sockets, policy, baseline).map((u) => `${listenerKey(u.socket)} ${u.reason}`);

describe('the network sections of examples/policy.yml', () => {
  it('load, with the outbound and shell_on_socket sections', () => {
    const text = readFileSync(new URL('../../examples/policy.yml', import.meta.url), 'utf8');
    const { policy } = parsePolicy(text, 'examples/policy.yml');
    expect(policy.listeners.allow.map((r) => r.port)).toEqual([22, 10177, '8000-8099', 53]);
    expect(policy.listeners.hidden_ports).toEqual({
      enabled: true,
      schedule: '*/15 * * * *',
      ports: '1-65535',
      protocols: ['tcp', 'udp'],
      confirm_delay_seconds: 10,
    });
    expect(policy.outbound).toMatchObject({
      judge: 'unusual',
      watch_loopback: false,
      flagged_processes: true,
      new_destinations: true,
      network_tools: [...defaultNetworkTools],
    });
    expect(policy.outbound.allow).toHaveLength(2);
    expect(policy.outbound.networks).toEqual([{ name: 'corp-db', cidr: ['10.20.0.0/16'] }]);
    expect(policy.processes.interpreters).toEqual([...defaultInterpreters]);
    expect(policy.shell_on_socket.super_servers).toContain('/usr/sbin/inetd');
    expect(policy.shell_on_socket.allow).toHaveLength(1);
  });

  it('reject a bad address, range or block with the line and key at fault', () => {
    const error = policyError;
    expect(error('listeners:\n  allow:\n    - port: 22\n      address: 10.0.0.0/33\n')).toMatch(
      /^p\.yml:4: listeners\.allow\[0\]\.address: /,
    );
    expect(error('listeners:\n  allow:\n    - port: 9000-80\n')).toBe(
      'p.yml:3: listeners.allow[0].port: "9000-80" is not a port or a range like 8000-8099',
    );
    expect(error('outbound:\n  allow:\n    - cidr: [10.0.0.0/8, internet]\n')).toMatch(
      /^p\.yml:3: outbound\.allow\[0\]\.cidr(\[1\])?: .*not an IP address or CIDR block/,
    );
    expect(error('listeners:\n  hidden_ports:\n    schedule: often\n')).toMatch(
      /^p\.yml:3: listeners\.hidden_ports\.schedule: not a cron expression/,
    );
  });
});

describe('listeners: judged against the allow rules', () => {
  it('reports a listener no rule allows, and nothing for one a rule allows by port, range and protocol', () => {
    const policy = listeners('  allow:\n    - port: 22\n      protocol: tcp\n    - port: 8000-8099\n');
    const sockets = [
      listener('tcp', '0.0.0.0', 22, owned(sshd)),
      listener('udp', '0.0.0.0', 22, owned(implant)),
      listener('tcp', '::', 8050, owned(implant)),
      listener('tcp', '0.0.0.0', 4444, owned(implant)),
    ];
    expect(reasons(sockets, policy)).toEqual(['udp/any/22 not_allowed', 'tcp/any/4444 not_allowed']);
  });

  it('a loopback rule covers loopback listeners (127/8, ::1, IPv4-mapped) but not one on every address', () => {
    const policy = listeners('  allow:\n    - port: 8080\n      address: loopback\n');
    const sockets = [
      listener('tcp', '127.0.0.1', 8080, owned(implant)),
      listener('tcp', '127.0.0.53', 8080, owned(implant)),
      listener('tcp', '::1', 8080, owned(implant)),
      listener('tcp', '::ffff:127.0.0.1', 8080, owned(implant)),
      listener('tcp', '0.0.0.0', 8080, owned(implant)),
      listener('tcp', '::', 8080, owned(implant)),
      listener('tcp', '10.0.2.15', 8080, owned(implant)),
    ];
    expect(reasons(sockets, policy)).toEqual(['tcp/any/8080 not_allowed', 'tcp/any/8080 not_allowed', 'tcp/10.0.2.15/8080 not_allowed']);
  });

  it('an address rule covers the sockets bound to that address or block, the wildcard only when written', () => {
    const policy = listeners(
      '  allow:\n    - port: 9100\n      address: 10.0.0.0/8\n    - port: 9200\n      address: 2001:db8::5\n    - port: 9300\n      address: "::"\n',
    );
    const sockets = [
      listener('tcp', '10.0.2.15', 9100, owned(implant)),
      listener('tcp', '::ffff:10.0.2.15', 9100, owned(implant)),
      listener('tcp', '192.168.1.5', 9100, owned(implant)),
      listener('tcp', '0.0.0.0', 9100, owned(implant)),
      listener('tcp', '2001:db8::5', 9200, owned(implant)),
      listener('tcp', '::', 9200, owned(implant)),
      listener('tcp', '::', 9300, owned(implant)),
      listener('tcp', '::1', 9300, owned(implant)),
    ];
    expect(reasons(sockets, policy)).toEqual([
      'tcp/192.168.1.5/9100 not_allowed',
      'tcp/any/9100 not_allowed',
      'tcp/any/9200 not_allowed',
      'tcp/loopback/9300 not_allowed',
    ]);
  });

  it('an allowed port held by another program is a finding of its own reason, critical', () => {
    const policy = listeners('  allow:\n    - port: 22\n      exe: /usr/sbin/sshd\n');
    const unexpected = judgeListeners(
      [listener('tcp', '0.0.0.0', 22, owned(sshd)), listener('tcp', '::', 22, owned(implant))],
      policy,
      undefined,
    );
    const findings = listenerFindings(unexpected);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      collector: 'network',
      kind: 'unexpected_listener',
      severity: 'critical',
      subject: { protocol: 'tcp', address: 'any', port: 22, exe: '/tmp/.cache/x', user: 'www-data', reason: 'unexpected_program' },
    });
    expect(findings[0]!.message).toBe(
      'tcp [::]:22 is listening (/tmp/.cache/x, pid 4242): the port is allowed, but not for this program or user',
    );
  });

  it("every process holding the socket must match: sharing sshd's socket does not launder an implant", () => {
    const policy = listeners(
      '  allow:\n    - port: 22\n      exe: /usr/sbin/sshd\n    - port: 53\n      exe: [/usr/sbin/named, /usr/lib/systemd/*]\n',
    );
    const sockets = [
      listener('tcp', '0.0.0.0', 22, owned(sshd, implant)),
      listener('udp', '0.0.0.0', 53, owned(systemd, { ...sshd, exe: '/usr/sbin/named' })),
    ];
    expect(reasons(sockets, policy)).toEqual(['tcp/any/22 unexpected_program']);
  });

  it('a user rule matches the user name or uid', () => {
    const byName = listeners('  allow:\n    - port: 80\n      user: www-data\n');
    const byUid = listeners('  allow:\n    - port: 80\n      user: "33"\n');
    expect(reasons([listener('tcp', '0.0.0.0', 80, owned(implant))], byName)).toEqual([]);
    expect(reasons([listener('tcp', '0.0.0.0', 80, owned(implant))], byUid)).toEqual([]);
    expect(reasons([listener('tcp', '0.0.0.0', 80, owned(sshd))], byName)).toEqual(['tcp/any/80 unexpected_program']);
  });

  it('a rule that names a program does not pass a socket whose owner is unknown; one without a program does', () => {
    const withExe = listeners('  allow:\n    - port: 22\n      exe: /usr/sbin/sshd\n');
    const portOnly = listeners('  allow:\n    - port: 22\n');
    const unknown = listener('tcp', '0.0.0.0', 22, { kind: 'unknown', reason: 'denied' });
    const kernel = listener('udp', '0.0.0.0', 22, { kind: 'kernel' });
    expect(reasons([unknown, kernel], withExe)).toEqual(['tcp/any/22 owner_unknown', 'udp/any/22 owner_unknown']);
    expect(reasons([unknown, kernel], portOnly)).toEqual([]);
    expect(listenerFindings(judgeListeners([unknown], withExe, undefined))[0]!.subject).toMatchObject({ exe: 'unknown', user: 'unknown' });
  });

  it("the exporter's own listener is always expected", () => {
    const self = { ...sshd, pid: process.pid, exe: process.execPath, self: true };
    expect(reasons([listener('tcp', '127.0.0.1', 10177, owned(self))], listeners('  allow: []\n'))).toEqual([]);
  });

  it('one finding for the IPv4 and IPv6 sockets of one server', () => {
    const unexpected = judgeListeners(
      [listener('tcp', '0.0.0.0', 4444, owned(implant)), listener('tcp', '::', 4444, owned(implant))],
      listeners('  allow: []\n'),
      undefined,
    );
    expect(unexpected).toHaveLength(2);
    expect(listenerFindings(unexpected)).toHaveLength(1);
  });
});

describe('listeners: judged against the baseline', () => {
  const sockets = () => [
    listener('tcp', '0.0.0.0', 22, owned(sshd)),
    listener('tcp', '::', 22, owned(sshd)),
    listener('udp', '0.0.0.0', 51820, { kind: 'kernel' }),
    listener('tcp', '0.0.0.0', 2024, { kind: 'unknown', reason: 'denied' }),
    listener('tcp', '127.0.0.1', 10177, owned({ ...sshd, self: true })),
  ];

  it('learns every listener but the exporter itself, keyed by protocol, address class and port, with its programs', () => {
    expect(learnListeners(sockets())).toEqual({
      'tcp/any/22': { exe: ['/usr/sbin/sshd'] },
      'udp/any/51820': { exe: ['kernel'] },
      'tcp/any/2024': { exe: [] },
    });
  });

  it('accepts what it learned, and reports the same port held by another program', () => {
    const { baseline } = readListenerBaseline(learnListeners(sockets()));
    const policy = listeners('  allow: []\n');
    expect(reasons(sockets(), policy, baseline)).toEqual([]);
    const swapped = [
      listener('tcp', '0.0.0.0', 22, owned(implant)),
      listener('tcp', '0.0.0.0', 2024, owned(implant)),
      listener('udp', '0.0.0.0', 51820, owned(implant)),
    ];
    // 2024 was learned with its owner unseen: any program is accepted there.
    expect(reasons(swapped, policy, baseline)).toEqual(['tcp/any/22 unexpected_program', 'udp/any/51820 unexpected_program']);
    expect(reasons([listener('tcp', '0.0.0.0', 23, owned(sshd))], policy, baseline)).toEqual(['tcp/any/23 not_allowed']);
  });

  it('a rule still allows what the baseline would report', () => {
    const { baseline } = readListenerBaseline(learnListeners(sockets()));
    expect(reasons([listener('tcp', '0.0.0.0', 22, owned(implant))], listeners('  allow:\n    - port: 22\n'), baseline)).toEqual([]);
  });

  it('ignores baseline entries of the wrong shape, counting them', () => {
    const { baseline, invalid } = readListenerBaseline({
      'tcp/any/22': { exe: ['/usr/sbin/sshd'] },
      'tcp/any/23': { exe: 'sshd' },
      'tcp/any/24': 7,
    });
    expect(invalid).toBe(2);
    expect([...baseline!.keys()]).toEqual(['tcp/any/22']);
  });
});

describe('outbound: judged against the allow rules', () => {
  const curl: SocketOwner = { pid: 300, exe: '/usr/bin/curl', uid: 1000, user: 'alice', userClass: 'regular', self: false };
  const policy = outbound(
    '  allow:\n    - cidr: 10.0.0.0/8\n    - cidr: [0.0.0.0/0, ::/0]\n      ports: [443, "8000-8099"]\n      exe: /usr/bin/curl\n    - ports: [53]\n      protocol: udp\n',
  );

  it('allows by destination block, port and program; reports the rest once per program and destination', () => {
    const connections = [
      connection('10.1.2.3', 5432, owned(implant)),
      connection('203.0.113.9', 443, owned(curl)),
      connection('2001:db8::9', 8080, owned(curl)),
      connection('8.8.8.8', 53, owned(implant), 'udp'),
      connection('203.0.113.9', 443, owned(implant)),
      connection('203.0.113.9', 443, owned(implant), 'tcp', 40001),
      connection('203.0.113.9', 22, owned(curl)),
      connection('8.8.8.8', 53, owned(implant), 'tcp'),
    ];
    const unexpected = judgeOutbound(connections, byRules(policy));
    expect(
      unexpected.map(
        ({ connection: c }) =>
          `${c.protocol} ${c.remoteAddress}:${c.remotePort} ${c.ownership.kind === 'known' ? c.ownership.owners[0]!.exe : '?'}`,
      ),
    ).toEqual([
      'tcp 203.0.113.9:443 /tmp/.cache/x',
      'tcp 203.0.113.9:443 /tmp/.cache/x',
      'tcp 203.0.113.9:22 /usr/bin/curl',
      'tcp 8.8.8.8:53 /tmp/.cache/x',
    ]);
    const findings = outboundFindings(unexpected);
    expect(findings).toHaveLength(3);
    expect(findings[0]).toMatchObject({
      kind: 'unexpected_outbound',
      subject: {
        protocol: 'tcp',
        exe: '/tmp/.cache/x',
        user: 'www-data',
        reason: 'not_allowed',
        remote_class: 'public',
        remote_address: '203.0.113.9',
        remote_port: 443,
      },
    });
  });

  it('looks up the owner only when a rule naming a program could decide', () => {
    expect(outboundNeedsOwner(policy, connection('10.9.9.9', 1, { kind: 'not_looked_up' }))).toBe(false);
    expect(outboundNeedsOwner(policy, connection('8.8.4.4', 53, { kind: 'not_looked_up' }, 'udp'))).toBe(false);
    expect(outboundNeedsOwner(policy, connection('203.0.113.9', 443, { kind: 'not_looked_up' }))).toBe(true);
  });

  it('an owner that cannot be found does not pass a rule naming a program', () => {
    const unexpected = judgeOutbound([connection('203.0.113.9', 443, { kind: 'unknown', reason: 'not_found' })], byRules(policy));
    expect(outboundFindings(unexpected)[0]!.subject).toMatchObject({ exe: 'unknown' });
  });
});

const raw = (protocol: 'tcp' | 'udp', local: string, localPort: number, remote: string, remotePort: number, state: number): NetSocket => ({
  protocol,
  family: local.includes(':') ? 6 : 4,
  localAddress: local,
  localPort,
  remoteAddress: remote,
  remotePort,
  state,
  uid: 0,
  inode: nextInode++,
});

describe('which sockets are listeners and which connections are outgoing', () => {
  const sockets = [
    raw('tcp', '0.0.0.0', 22, '0.0.0.0', 0, 0x0a),
    raw('tcp', '::', 80, '::', 0, 0x0a),
    raw('udp', '0.0.0.0', 68, '0.0.0.0', 0, 0x07),
    raw('tcp', '10.0.2.15', 22, '10.0.2.2', 50000, 0x01),
    raw('tcp', '::ffff:10.0.2.15', 80, '::ffff:10.0.2.2', 50001, 0x01),
    raw('tcp', '10.0.2.15', 41000, '203.0.113.9', 443, 0x01),
    raw('tcp', '10.0.2.15', 41001, '203.0.113.9', 4444, 0x02),
    raw('tcp', '10.0.2.15', 41002, '203.0.113.9', 80, 0x06),
    raw('udp', '10.0.2.15', 41003, '8.8.8.8', 53, 0x01),
    raw('tcp', '127.0.0.1', 41004, '127.0.0.1', 5432, 0x01),
    raw('tcp', '::1', 41005, '::ffff:127.0.0.1', 5432, 0x01),
  ];
  const listening = sockets.filter(isListening);

  it('listeners are TCP in LISTEN and unconnected UDP', () => {
    expect(listening.map((s) => `${s.protocol}/${s.localPort}`)).toEqual(['tcp/22', 'tcp/80', 'udp/68']);
  });

  it('outgoing are established, connecting and connected-UDP sockets not on a listening port, loopback left out', () => {
    const ports = (watchLoopback: boolean) =>
      outgoingConnections(sockets, listening, { watchLoopback, ephemeralPorts: linuxDefault }).map((s) => `${s.protocol}/${s.remotePort}`);
    expect(ports(false)).toEqual(['tcp/443', 'tcp/4444', 'udp/53']);
    expect(ports(true)).toEqual(['tcp/443', 'tcp/4444', 'udp/53', 'tcp/5432', 'tcp/5432']);
  });

  it('a connection accepted while its listener was open stays incoming after the listener closes, until it leaves the tables', () => {
    const accepted = new AcceptedConnections();
    // A server on a port inside the ephemeral range: once its listener is gone, only memory tells its sessions apart.
    const serverListener = raw('tcp', '0.0.0.0', 40000, '0.0.0.0', 0, 0x0a);
    const session = raw('tcp', '10.0.2.15', 40000, '198.51.100.7', 50000, 0x01);
    const remotes = (list: NetSocket[], listening: NetSocket[]) =>
      outgoingConnections(list, listening, { watchLoopback: false, ephemeralPorts: linuxDefault, accepted }).map(
        (s) => `${s.remoteAddress}:${s.remotePort}`,
      );
    expect(remotes([serverListener, session], [serverListener])).toEqual([]);
    // The server restarts (or a one-shot backdoor closes its listener): the session is still the one it accepted.
    expect(remotes([session], [])).toEqual([]);
    // Gone from the tables and forgotten: a new socket on that ephemeral port with no listener was opened from here.
    expect(remotes([], [])).toEqual([]);
    const opened = { ...session, inode: session.inode + 1000 };
    expect(remotes([opened], [])).toEqual(['198.51.100.7:50000']);
  });
});

describe('what the ports say of a connection no listener owns and none was seen to', () => {
  const tcp = (localPort: number, remote: string, remotePort: number, state = 0x01) =>
    raw('tcp', remote.includes(':') ? '2001:db8::2' : '10.0.2.15', localPort, remote, remotePort, state);
  /** Which connections look opened from here, and which may be a session a closed listener accepted. */
  const judged = (sockets: NetSocket[], ephemeralPorts: EphemeralPorts = linuxDefault, watchLoopback = false) => {
    const connections = outgoingConnections(sockets, [], { watchLoopback, ephemeralPorts });
    const ports = (maybeAccepted: boolean) =>
      connections.filter((c) => c.maybeAccepted === maybeAccepted).map((s) => `${s.localPort}->${s.remotePort}`);
    return { outgoing: ports(false), maybeAccepted: ports(true) };
  };

  it("a server's sessions may be accepted after its listener closed unseen: our port is outside the ephemeral range, the peer's a client's", () => {
    // sshd stopped before the exporter started; the sessions it accepted from Linux, Windows and IPv6 peers remain.
    const sessions = [tcp(22, '198.51.100.7', 41234), tcp(22, '198.51.100.8', 63000), tcp(8080, '2001:db8::9', 50123)];
    expect(judged(sessions)).toEqual({ outgoing: [], maybeAccepted: ['22->41234', '22->63000', '8080->50123'] });
  });

  it('a client that let the kernel pick its port is outgoing, to any port', () => {
    expect(judged([tcp(45000, '203.0.113.9', 443), tcp(45001, '203.0.113.9', 50000), tcp(60999, '203.0.113.9', 22)]).outgoing).toEqual([
      '45000->443',
      '45001->50000',
      '60999->22',
    ]);
  });

  it('a server on a port inside the range whose listener closed unseen is outgoing, unless the port is reserved', () => {
    const session = tcp(40000, '198.51.100.7', 51000);
    expect(judged([session]).outgoing).toEqual(['40000->51000']);
    // Ports in ip_local_reserved_ports are never handed to connect(): a server on one is told apart.
    const reserved: EphemeralPorts = {
      range: linuxDefault.range,
      reserved: [
        { from: 9100, to: 9100 },
        { from: 40000, to: 40099 },
      ],
    };
    expect(judged([session], reserved)).toEqual({ outgoing: [], maybeAccepted: ['40000->51000'] });
  });

  it('a client that binds a fixed port is still seen calling a service port: the source-port-53 trick does not hide it', () => {
    expect(judged([tcp(53, '203.0.113.9', 443), tcp(53, '203.0.113.9', 4444), tcp(8443, '203.0.113.9', 31337)]).outgoing).toEqual([
      '53->443',
      '53->4444',
      '8443->31337',
    ]);
    // A fixed local port outside the range calling a peer on a client-range port looks like a session: its program decides.
    expect(judged([tcp(2222, '203.0.113.9', 50000)])).toEqual({ outgoing: [], maybeAccepted: ['2222->50000'] });
  });

  it('a connection still being made, and connected UDP, are outgoing whatever their ports', () => {
    const udp: NetSocket = { ...tcp(53, '203.0.113.9', 50000), protocol: 'udp' };
    expect(judged([tcp(22, '203.0.113.9', 50000, 0x02), udp]).outgoing).toEqual(['22->50000', '53->50000']);
  });

  it("follows the host's range: with every unprivileged port ephemeral, a session on one is outgoing", () => {
    const wide: EphemeralPorts = { range: { from: 1024, to: 65535 }, reserved: [] };
    expect(judged([tcp(8080, '198.51.100.7', 41234), tcp(22, '198.51.100.7', 41234)], wide)).toEqual({
      outgoing: ['8080->41234'],
      maybeAccepted: ['22->41234'],
    });
  });

  it('loopback sessions are looked at only when loopback is watched', () => {
    const local = raw('tcp', '127.0.0.1', 5432, '127.0.0.1', 41000, 0x01);
    expect(judged([local])).toEqual({ outgoing: [], maybeAccepted: [] });
    expect(judged([local], linuxDefault, true)).toEqual({ outgoing: [], maybeAccepted: ['5432->41000'] });
  });
});

describe('a session whose listener closed is presumed accepted only when its program may listen there', () => {
  const nginx: SocketOwner = { pid: 700, exe: '/usr/sbin/nginx', uid: 33, user: 'www-data', userClass: 'system', self: false };
  const dropped: SocketOwner = { pid: 4243, exe: '/tmp/implant', uid: 33, user: 'www-data', userClass: 'system', self: false };
  const shell: SocketOwner = { pid: 4244, exe: '/bin/sh', uid: 33, user: 'www-data', userClass: 'system', self: false };
  const nginxOn8080 = listeners('  allow:\n    - port: 8080\n      protocol: tcp\n      exe: /usr/sbin/nginx\n');
  const noOutbound = outbound('  allow: []\n');
  /** An established connection as observation hands it over: 10.0.2.15:8080 to a peer, its ports marking it a possible session. */
  const onPort8080 = (ownership: Ownership, remotePort = 41234, localAddress = '10.0.2.15', maybeAccepted = true): ObservedConnection => ({
    ...connection('198.51.100.7', remotePort, ownership, 'tcp', 8080),
    localAddress,
    maybeAccepted,
  });
  const verdict = (connections: ObservedConnection[], policy = nginxOn8080, baseline?: ListenerBaseline) => {
    const direction = judgeDirection(connections, policy, baseline);
    const findings = outboundFindings(judgeOutbound(direction.outgoing, byRules(noOutbound)));
    return {
      presumedAccepted: direction.presumedAccepted.length,
      findings: findings.map((f) => `${f.subject.exe} -> ${f.subject.remote_port}`),
    };
  };

  it("an allowed server's session, its listener closed before the exporter saw it, is no finding and is counted", () => {
    expect(verdict([onPort8080(owned(nginx)), onPort8080(owned(nginx), 63000)])).toEqual({ presumedAccepted: 2, findings: [] });
  });

  it('the same ports held by a program not allowed to listen there are outbound: a bind shell or a fixed-port implant', () => {
    // A bind shell that closed its listener after accepting; an implant that bound 8080 and called its C2 on 50000.
    expect(verdict([onPort8080(owned(dropped)), onPort8080(owned(dropped), 50000)])).toEqual({
      presumedAccepted: 0,
      findings: ['/tmp/implant -> 41234', '/tmp/implant -> 50000'],
    });
    // A shell sharing the server's socket does not pass on the server's rule.
    expect(verdict([onPort8080(owned(nginx, shell))]).findings).toEqual(['/bin/sh,/usr/sbin/nginx -> 41234']);
  });

  it("a server the learned listeners account for counts as allowed, on all addresses or on the session's own", () => {
    const none = listeners('  allow: []\n');
    const onAny: ListenerBaseline = new Map([['tcp/any/8080', { exe: ['/usr/sbin/nginx'] }]]);
    const onLoopback: ListenerBaseline = new Map([['tcp/loopback/8080', { exe: ['/usr/sbin/nginx'] }]]);
    expect(verdict([onPort8080(owned(nginx))], none, onAny)).toEqual({ presumedAccepted: 1, findings: [] });
    expect(verdict([onPort8080(owned(nginx), 41234, '127.0.0.1')], none, onLoopback)).toEqual({ presumedAccepted: 1, findings: [] });
    // Learned on loopback only: a session on the host's address was not accepted by it.
    expect(verdict([onPort8080(owned(nginx))], none, onLoopback)).toEqual({ presumedAccepted: 0, findings: ['/usr/sbin/nginx -> 41234'] });
    expect(verdict([onPort8080(owned(dropped))], none, onAny).findings).toEqual(['/tmp/implant -> 41234']);
  });

  it('an owner that cannot be found is outbound where the port is allowed for a named program, accepted where for any', () => {
    const notFound: Ownership = { kind: 'unknown', reason: 'denied' };
    expect(verdict([onPort8080(notFound)])).toEqual({ presumedAccepted: 0, findings: ['unknown -> 41234'] });
    expect(verdict([onPort8080(notFound)], listeners('  allow:\n    - port: 8080\n'))).toEqual({ presumedAccepted: 1, findings: [] });
    const learnedWithoutOwner: ListenerBaseline = new Map([['tcp/any/8080', { exe: [] }]]);
    expect(verdict([onPort8080(notFound)], listeners('  allow: []\n'), learnedWithoutOwner).presumedAccepted).toBe(1);
  });

  it('ports that do not look like a session leave an allowed server judged as any client', () => {
    expect(verdict([onPort8080(owned(nginx), 443, '10.0.2.15', false)])).toEqual({
      presumedAccepted: 0,
      findings: ['/usr/sbin/nginx -> 443'],
    });
  });
});

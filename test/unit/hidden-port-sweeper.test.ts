import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HiddenPortsPolicy } from '../../src/config/sections/listeners.js';
import { silentLogger } from '../../src/log/logger.js';
import { HiddenPortSweeper } from '../../src/network/hidden-port-sweeper.js';
import type { PortProbe } from '../../src/network/port-probe.js';

const procfs = new URL('../fixtures/proc', import.meta.url).pathname;

/** A host where tcp/40000 and udp/40001 are held by sockets hidden from /proc/net. */
const hiddenSockets: PortProbe = {
  probe: (protocol, _family, port) => ((protocol === 'tcp' && port === 40000) || (protocol === 'udp' && port === 40001) ? 'in_use' : 'free'),
};

const policy = (changes: Partial<HiddenPortsPolicy> = {}): HiddenPortsPolicy => ({
  enabled: true,
  schedule: '0 0 1 1 *',
  ports: '40000-40010',
  protocols: ['tcp', 'udp'],
  confirm_delay_seconds: 0,
  ...changes,
});

const hiddenText = (sweeper: HiddenPortSweeper) => sweeper.lastResult?.hidden.map((h) => `${h.protocol}/${h.port}`);

const sweepers: HiddenPortSweeper[] = [];
afterEach(async () => {
  await Promise.all(sweepers.splice(0).map((s) => s.stop()));
});

function sweeper(): HiddenPortSweeper {
  const s = new HiddenPortSweeper(procfs, silentLogger, () => hiddenSockets);
  sweepers.push(s);
  return s;
}

describe('the hidden-port sweep across policy reloads', () => {
  it('removing udp from the sweep drops the udp finding at once and sweeps again', async () => {
    const s = sweeper();
    s.configure(policy());
    await vi.waitFor(() => expect(hiddenText(s)).toEqual(['tcp/40000', 'udp/40001']));

    s.configure(policy({ protocols: ['tcp'] }));
    expect(s.lastResult).toBeUndefined();
    await vi.waitFor(() => expect(hiddenText(s)).toEqual(['tcp/40000']));
  });

  it('narrowing the ports while a sweep is confirming discards that sweep: only the new one answers', async () => {
    const s = sweeper();
    s.configure(policy({ confirm_delay_seconds: 0.3 }));
    await new Promise((r) => setTimeout(r, 50));
    s.configure(policy({ ports: '40001-40010', protocols: ['tcp'], confirm_delay_seconds: 0.3 }));
    await vi.waitFor(() => expect(hiddenText(s)).toEqual([]));
    // Long after the superseded sweep would have confirmed tcp/40000.
    await new Promise((r) => setTimeout(r, 500));
    expect(hiddenText(s)).toEqual([]);
  });

  it('disabling and re-enabling during a sweep keeps nothing of the sweep it interrupted', async () => {
    const s = sweeper();
    s.configure(policy({ confirm_delay_seconds: 0.3 }));
    await new Promise((r) => setTimeout(r, 50));
    s.configure(policy({ enabled: false }));
    s.configure(policy({ ports: '40002-40010' }));
    await vi.waitFor(() => expect(hiddenText(s)).toEqual([]));
    await new Promise((r) => setTimeout(r, 500));
    expect(hiddenText(s)).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { HiddenPortsPolicy } from '../../src/config/sections/listeners.js';
import { silentLogger } from '../../src/log/logger.js';
import { HiddenPortSweeper } from '../../src/network/hidden-port-sweeper.js';
import type { PortProbe } from '../../src/network/port-probe.js';
import { eventually, eventuallyExpect } from '../helpers/eventually.js';

const procfs = new URL('../fixtures/proc', import.meta.url).pathname;

/** A host where tcp/40000 and udp/40001 are held by sockets hidden from /proc/net. */
const hiddenSockets: PortProbe = {
  probe: (protocol, _family, port) =>
    (protocol === 'tcp' && port === 40000) || (protocol === 'udp' && port === 40001) ? 'in_use' : 'free',
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

/** A sweeper on that host, and the ports it has probed so far (protocol/port). */
function sweeper(): { s: HiddenPortSweeper; probed: Set<string> } {
  const probed = new Set<string>();
  const recording: PortProbe = {
    probe: (protocol, family, port) => {
      probed.add(`${protocol}/${port}`);
      return hiddenSockets.probe(protocol, family, port);
    },
  };
  const s = new HiddenPortSweeper(procfs, silentLogger, () => recording);
  sweepers.push(s);
  return { s, probed };
}

/**
 * An hour's confirmation delay: a sweep that found tcp/40000 in its first pass (which ends with
 * udp/40010) is confirming it, whatever the machine's speed, until something stops it. A
 * superseded sweep that was not stopped would hold back the next one by that hour.
 */
const confirming = { confirm_delay_seconds: 3600 };

describe('the hidden-port sweep across policy reloads', () => {
  it('removing udp from the sweep drops the udp finding at once and sweeps again', async () => {
    const { s } = sweeper();
    s.configure(policy());
    await eventuallyExpect(() => expect(hiddenText(s)).toEqual(['tcp/40000', 'udp/40001']));

    s.configure(policy({ protocols: ['tcp'] }));
    expect(s.lastResult).toBeUndefined();
    await eventuallyExpect(() => expect(hiddenText(s)).toEqual(['tcp/40000']));
  });

  it('narrowing the ports while a sweep is confirming discards that sweep: only the new one answers', async () => {
    const { s, probed } = sweeper();
    s.configure(policy(confirming));
    await eventually(() => probed.has('udp/40010'), { what: 'the first pass' });
    expect(s.lastResult).toBeUndefined();
    s.configure(policy({ ports: '40001-40010', protocols: ['tcp'], ...confirming }));
    await eventuallyExpect(() => expect(hiddenText(s)).toEqual([]));
  });

  it('disabling and re-enabling during a sweep keeps nothing of the sweep it interrupted', async () => {
    const { s, probed } = sweeper();
    s.configure(policy(confirming));
    await eventually(() => probed.has('udp/40010'), { what: 'the first pass' });
    s.configure(policy({ enabled: false }));
    expect(s.lastResult).toBeUndefined();
    s.configure(policy({ ports: '40002-40010', ...confirming }));
    await eventuallyExpect(() => expect(hiddenText(s)).toEqual([]));
  });
});

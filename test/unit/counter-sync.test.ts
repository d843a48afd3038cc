import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterSync } from '../../src/metrics/counter-sync.js';

async function value(counter: Counter<'source'>, source: string): Promise<number | undefined> {
  return (await counter.get()).values.find((v) => v.labels.source === source)?.value;
}

describe('copying counts kept elsewhere into counters', () => {
  it('adds only what is new, never goes down, and shows a series from its first count of 0', async () => {
    const counter = new Counter({ name: 'restarts_total', help: 'h', labelNames: ['source'], registers: [new Registry()] });
    const sync = new CounterSync();
    sync.sync(counter, { source: 'journald' }, 0);
    expect(await value(counter, 'journald')).toBe(0);
    sync.sync(counter, { source: 'journald' }, 3);
    sync.sync(counter, { source: 'journald' }, 2);
    expect(await value(counter, 'journald')).toBe(3);
  });

  it('a follower a reload dropped and a later one brought back counts from zero: its restarts are added to the total', async () => {
    const counter = new Counter({ name: 'restarts_total', help: 'h', labelNames: ['source'], registers: [new Registry()] });
    const sync = new CounterSync();
    const first = {};
    sync.sync(counter, { source: 'journald' }, 5, first);
    const second = {};
    sync.sync(counter, { source: 'journald' }, 0, second);
    sync.sync(counter, { source: 'journald' }, 2, second);
    expect(await value(counter, 'journald')).toBe(7);
  });

  it('a counter forgotten (its configuration gone) shows no series, and counts again from zero when synced', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'removed_total', help: 'h', registers: [registry] });
    const sync = new CounterSync();
    sync.sync(counter, {}, 2);
    sync.forget(counter);
    expect((await counter.get()).values).toEqual([]);
    expect(await registry.metrics()).not.toMatch(/^removed_total /m);
    sync.sync(counter, {}, 2);
    expect((await counter.get()).values.map((v) => v.value)).toEqual([2]);
  });
});

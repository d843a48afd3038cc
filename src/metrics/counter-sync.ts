import type { Counter } from 'prom-client';

/**
 * Brings prom-client counters up to counts kept elsewhere (a pipeline's arrays, a follower's
 * stats): counters only go up, so each call adds what is new since the last one.
 */
export class CounterSync {
  private readonly pushed = new Map<Counter<string>, Map<string, number>>();

  sync<L extends string>(counter: Counter<L>, labels: Readonly<Record<L, string>>, value: number): void {
    let pushed = this.pushed.get(counter as Counter<string>);
    if (!pushed) this.pushed.set(counter as Counter<string>, (pushed = new Map()));
    const key = JSON.stringify(labels);
    const before = pushed.get(key);
    if (before !== undefined && value <= before) return;
    counter.inc(labels as Partial<Record<L, string>>, value - (before ?? 0));
    pushed.set(key, value);
  }
}

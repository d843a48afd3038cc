import type { Counter } from 'prom-client';

/**
 * Brings prom-client counters up to counts kept elsewhere (a pipeline's arrays, a follower's
 * stats): counters only go up, so each call adds what is new since the last one.
 */
export class CounterSync {
  private readonly pushed = new Map<Counter<string>, Map<string, { value: number; origin: object | undefined }>>();

  /**
   * `origin`: what keeps the count, when it can be replaced (a follower of a source that a reload
   * dropped and a later one brought back). A new origin counts from zero: what it counts is added,
   * not hidden under the total of the one before.
   */
  sync<L extends string>(counter: Counter<L>, labels: Readonly<Record<L, string>>, value: number, origin?: object): void {
    let pushed = this.pushed.get(counter as Counter<string>);
    if (!pushed) this.pushed.set(counter as Counter<string>, (pushed = new Map()));
    const key = JSON.stringify(labels);
    const before = pushed.get(key);
    const from = before !== undefined && before.origin === origin ? before.value : undefined;
    if (from !== undefined && value <= from) return;
    counter.inc(labels as Partial<Record<L, string>>, value - (from ?? 0));
    pushed.set(key, { value, origin });
  }

  /** `counter`'s series were removed (what it counts is no longer configured): the next sync starts it again from zero. */
  forget<L extends string>(counter: Counter<L>): void {
    counter.remove();
    this.pushed.delete(counter as Counter<string>);
  }
}

import { readFile } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Slicer } from '../../src/scheduler/slicer.js';

/** Busy for at least `ms`, as a slice of synchronous /proc reads is (only ever a lower bound below). */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('Slicer', () => {
  it('does not yield before its slice is used up, and yields once it is', async () => {
    // The clock is the test's: a preempted test process cannot use up the slice behind its back.
    let now = 1000;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const slicer = new Slicer(50);
      now += 49;
      expect(slicer.due()).toBeUndefined();
      now += 1;
      const pause = slicer.due();
      expect(pause).toBeInstanceOf(Promise);
      await pause;
      // A fresh slice starts after the pause.
      now += 49;
      expect(slicer.due()).toBeUndefined();
      now += 1;
      expect(slicer.due()).toBeInstanceOf(Promise);
    } finally {
      clock.mockRestore();
    }
  });

  it('counts work done between its making and its first check towards the first slice, and counts its pauses', async () => {
    const slicer = new Slicer(5);
    work(10);
    expect(slicer.yielded).toBe(0);
    const pause = slicer.due();
    expect(pause).toBeInstanceOf(Promise);
    await pause;
    await slicer.pause();
    expect(slicer.yielded).toBe(2);
  });

  it('looks at the clock only every checkEvery calls', () => {
    const slicer = new Slicer(0, 3);
    work(1);
    expect([slicer.due(), slicer.due()]).toEqual([undefined, undefined]);
    expect(slicer.due()).toBeInstanceOf(Promise);
  });

  it('started from an I/O callback (a scrape request), lets due timers run before the next slice', async () => {
    const order = await new Promise<string[]>((resolve, reject) => {
      readFile(import.meta.filename, (error) => {
        if (error) return reject(error);
        const events: string[] = [];
        const slicer = new Slicer(1);
        setTimeout(() => events.push('timer'), 0);
        work(3);
        const pause = slicer.due();
        if (!pause) return reject(new Error('the slice should be used up'));
        void pause.then(() => {
          events.push('next slice');
          resolve(events);
        });
      });
    });
    expect(order).toEqual(['timer', 'next slice']);
  });
});

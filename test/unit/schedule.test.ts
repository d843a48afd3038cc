import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import { scheduleIntervalSeconds, scheduleWork } from '../../src/scheduler/schedule.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('scheduled work', () => {
  it('runs on its cron schedule, never overlapping, and stops', async () => {
    // The clock is the test's: cron ticks and the work's own duration are steps of fake time.
    vi.useFakeTimers({
      now: new Date(2026, 0, 1, 0, 0, 0, 0),
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
    const skipped: string[] = [];
    const log: Logger = { ...silentLogger, warn: (msg) => skipped.push(msg), with: () => log };
    let runs = 0;
    let active = 0;
    let maxActive = 0;
    const runTakesMs = 1500;
    const schedule = scheduleWork(
      'test',
      '* * * * * *',
      async () => {
        runs++;
        maxActive = Math.max(maxActive, ++active);
        await new Promise((r) => setTimeout(r, runTakesMs));
        active--;
      },
      log,
    );
    // Run now, twice at once: the second call joins the first.
    const now = Promise.all([schedule.runNow(), schedule.runNow()]);
    await vi.advanceTimersByTimeAsync(1500);
    await now;
    expect(runs).toBe(1);
    // The tick at 1 s came while that run went on: skipped and logged. Ticks at 2 s and 4 s start
    // runs; those at 3 s and 5 s find one running.
    await vi.advanceTimersByTimeAsync(4000);
    expect(runs).toBe(3);
    expect(skipped).toEqual(Array(3).fill('scheduled run skipped: the previous one is still running'));
    schedule.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(3);
    expect(maxActive).toBe(1);
  });
});

describe('schedule interval', () => {
  it('is the time between the next two runs', () => {
    expect(scheduleIntervalSeconds('*/15 * * * *')).toBe(900);
    expect(scheduleIntervalSeconds('0 3 * * 1')).toBe(7 * 86400);
    expect(scheduleIntervalSeconds('*/5 * * * * *')).toBe(5);
  });
});

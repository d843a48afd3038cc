import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { scheduleWork } from '../../src/scheduler/schedule.js';

describe('scheduled work', () => {
  it('runs on its cron schedule, never overlapping, and stops', async () => {
    let runs = 0;
    let active = 0;
    let maxActive = 0;
    const schedule = scheduleWork(
      'test',
      '* * * * * *',
      async () => {
        runs++;
        maxActive = Math.max(maxActive, ++active);
        await new Promise((r) => setTimeout(r, 1500));
        active--;
      },
      silentLogger,
    );
    await Promise.all([schedule.runNow(), schedule.runNow()]);
    expect(runs).toBe(1);
    await new Promise((r) => setTimeout(r, 3200));
    schedule.stop();
    const after = runs;
    await new Promise((r) => setTimeout(r, 1200));
    expect(after).toBeGreaterThanOrEqual(2);
    expect(runs).toBe(after);
    expect(maxActive).toBe(1);
  });
});

describe('schedule interval', () => {
  it('is the time between the next two runs', async () => {
    const { scheduleIntervalSeconds } = await import('../../src/scheduler/schedule.js');
    expect(scheduleIntervalSeconds('*/15 * * * *')).toBe(900);
    expect(scheduleIntervalSeconds('0 3 * * 1')).toBe(7 * 86400);
    expect(scheduleIntervalSeconds('*/5 * * * * *')).toBe(5);
  });
});

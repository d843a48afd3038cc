import { createTask } from 'node-cron';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextRun, parseCron } from '../../src/scheduler/cron.js';

afterEach(() => {
  vi.useRealTimers();
});

/** node-cron's own answer: its task's next run, seen from a clock set to `now`. */
function nodeCronNext(expression: string, now: Date): Date | undefined {
  vi.useFakeTimers({ now, toFake: ['Date'] });
  const task = createTask(expression, () => {});
  try {
    return task.getNextRuns(1)[0];
  } finally {
    void task.destroy();
    vi.useRealTimers();
  }
}

const expressions = [
  '* * * * * *',
  '*/2 * * * * *',
  '*/15 * * * *',
  '17 * * * *',
  '0 3 * * 1',
  '0 0 1 1 *',
  '30 2 * * *',
  '0 0 L * *',
  '0 0 L-3 * *',
  '0 0 15W * *',
  '0 0 1W * *',
  '0 0 LW * *',
  '0 12 * * 5L',
  '0 9 * * 1#2',
  '0 9 * * 7',
  '0 0 * jan-mar mon-fri',
  '0 0 * * sunday',
  '1-5/2 * * * *',
  '5,10,50-55 1-3 * * *',
  '0 22-2 * * *',
  '0 0 ? * *',
  '@daily',
  '@weekly',
  '@hourly',
  '0 0 29 2 *',
  '0 0 31 * *',
];

describe('cron expressions read as node-cron reads them', () => {
  it('give the same next run as node-cron for its syntax, from times across years, months and days', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...expressions),
        fc.date({ min: new Date(2024, 0, 1), max: new Date(2031, 11, 31), noInvalidDate: true }),
        (expression, now) => {
          expect(nextRun(parseCron(expression), now)?.getTime()).toBe(nodeCronNext(expression, now)?.getTime());
        },
      ),
      { numRuns: 400 },
    );
  });

  it('run at the first minute node-cron matches across daylight-saving changes (America/New_York, Australia/Lord_Howe)', () => {
    // node-cron runs a task at each second its match() accepts; its getNextRuns() is wrong in a
    // skipped hour (it answers 22:30 for "30 2 * * *" on the day 02:30 does not exist), so the
    // reference here is the first minute after the time that match() accepts.
    const saved = process.env['TZ'];
    try {
      for (const zone of ['America/New_York', 'Australia/Lord_Howe']) {
        process.env['TZ'] = zone;
        const changes =
          zone === 'America/New_York'
            ? [Date.UTC(2026, 2, 8, 7), Date.UTC(2026, 10, 1, 6)]
            : [Date.UTC(2026, 3, 4, 15), Date.UTC(2026, 9, 3, 16)];
        for (const change of changes) {
          for (let t = change - 3 * 3_600_000; t <= change + 3 * 3_600_000; t += 1_800_000) {
            for (const expression of ['30 2 * * *', '0 * * * *', '*/20 * * * *', '15 1-3 * * *']) {
              const task = createTask(expression, () => {}, { timezone: zone }); // its formatter cache is keyed by the zone it is given
              let reference = Math.floor(t / 60_000) * 60_000 + 60_000;
              while (!task.match(new Date(reference))) reference += 60_000;
              void task.destroy();
              const now = new Date(t);
              expect([zone, expression, now.toISOString(), nextRun(parseCron(expression), now)?.toISOString()]).toEqual([
                zone,
                expression,
                now.toISOString(),
                new Date(reference).toISOString(),
              ]);
            }
          }
        }
      }
    } finally {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    }
  });

  it('runs strictly after the given time, on whole seconds', () => {
    const every2s = parseCron('*/2 * * * * *');
    expect(nextRun(every2s, new Date(2026, 5, 1, 12, 0, 0, 0))).toEqual(new Date(2026, 5, 1, 12, 0, 2));
    expect(nextRun(every2s, new Date(2026, 5, 1, 12, 0, 1, 999))).toEqual(new Date(2026, 5, 1, 12, 0, 2));
    expect(nextRun(parseCron('0 0 29 2 *'), new Date(2027, 2, 1))).toEqual(new Date(2028, 1, 29));
  });

  it('refuses what is not an expression, naming the field', () => {
    expect(() => parseCron('* * *')).toThrow(/5 or 6 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/minute: "61" is out of 0-59/);
    expect(() => parseCron('5/15 * * * *')).toThrow(/minute: "5\/15" is not a value, range or step/);
  });
});

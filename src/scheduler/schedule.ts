import type { Logger } from '../log/logger.js';
import { nextRun, parseCron, type CronSchedule } from './cron.js';

export interface Schedule {
  /** Run now, outside the schedule (the scan at start); joins a run in progress. */
  runNow(): Promise<void>;
  /** Change the expression (after a policy reload); a no-op when unchanged. */
  reschedule(expression: string): void;
  stop(): void;
}

/** setTimeout's longest delay; a later run is reached in steps. */
const longestDelayMs = 2 ** 31 - 1;

/**
 * Background work on a cron schedule, never on the scrape path. Runs never overlap: a tick that
 * arrives while the previous run is still going is skipped and logged. The timer is armed for the
 * next run in local time (./cron.ts) and checks the clock when it fires: a timer that fires before
 * its run, because the clock was set back or the run is further than one timer reaches, is armed
 * again; after the clock jumps forward, the runs it skipped are one run.
 */
export function scheduleWork(name: string, expression: string, work: () => Promise<void>, log: Logger): Schedule {
  let running: Promise<void> | undefined;
  let current = expression;
  let cron = parseCron(expression);
  let timer: NodeJS.Timeout | undefined;
  const run = (): Promise<void> => {
    running ??= work()
      .catch((error: unknown) =>
        log.error('scheduled work failed', { task: name, err: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const tick = (): void => {
    if (running) {
      log.warn('scheduled run skipped: the previous one is still running', { task: name });
      return;
    }
    void run();
  };
  const arm = (after: number): void => {
    const next = nextRun(cron, new Date(after));
    if (!next) {
      log.warn('schedule has no run in the next eight years: nothing is scheduled', { task: name, schedule: current });
      return;
    }
    const at = next.getTime();
    timer = setTimeout(
      () => {
        if (Date.now() < at) return arm(Date.now());
        tick();
        arm(Math.max(at, Date.now()));
      },
      Math.min(Math.max(0, at - Date.now()), longestDelayMs),
    );
  };
  arm(Date.now());
  return {
    runNow: run,
    reschedule(next) {
      if (next === current) return;
      clearTimeout(timer);
      current = next;
      cron = parseCron(next);
      arm(Date.now());
      log.info('schedule changed', { task: name, schedule: next });
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** Seconds between the next two runs of a cron expression: what "twice its interval" means for a stale alert. */
export function scheduleIntervalSeconds(expression: string): number {
  const cron: CronSchedule = parseCron(expression);
  const first = nextRun(cron, new Date());
  const second = first && nextRun(cron, first);
  return first && second ? (second.getTime() - first.getTime()) / 1000 : 0;
}

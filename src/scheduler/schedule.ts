import { createTask, type ScheduledTask } from 'node-cron';
import type { Logger } from '../log/logger.js';

export interface Schedule {
  /** Run now, outside the schedule (the scan at start); joins a run in progress. */
  runNow(): Promise<void>;
  /** Change the expression (after a policy reload); a no-op when unchanged. */
  reschedule(expression: string): void;
  stop(): void;
}

/**
 * Background work on a cron schedule (node-cron), never on the scrape path. Runs never overlap: a
 * tick that arrives while the previous run is still going is skipped and logged.
 */
export function scheduleWork(name: string, expression: string, work: () => Promise<void>, log: Logger): Schedule {
  let running: Promise<void> | undefined;
  let current = expression;
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
  const create = (expr: string): ScheduledTask => {
    const task = createTask(expr, tick, { name, noOverlap: true });
    void task.start();
    return task;
  };
  let task = create(current);
  return {
    runNow: run,
    reschedule(next) {
      if (next === current) return;
      void task.destroy();
      current = next;
      task = create(current);
      log.info('schedule changed', { task: name, schedule: next });
    },
    stop() {
      void task.destroy();
    },
  };
}

/** Seconds between the next two runs of a cron expression: what "twice its interval" means for a stale alert. */
export function scheduleIntervalSeconds(expression: string): number {
  const task = createTask(expression, () => {});
  try {
    const [first, second] = task.getNextRuns(2);
    return first && second ? (second.getTime() - first.getTime()) / 1000 : 0;
  } finally {
    void task.destroy();
  }
}

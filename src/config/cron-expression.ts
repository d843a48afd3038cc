import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { CronSyntaxError, parseCron } from '../scheduler/cron.js';

/**
 * A node-cron expression (5 fields, or 6 with seconds), rejected at load with the field at fault
 * (node-cron's messages). The scheduler reads it with its own parser, which takes what node-cron
 * takes; should they ever disagree, the expression is refused here, not at its first run.
 */
export const cronExpression = z.string().superRefine((value, ctx) => {
  const result = validateDetailed(value);
  if (!result.valid) {
    const detail = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a cron expression (${detail || value})` });
    return;
  }
  try {
    parseCron(value);
  } catch (error) {
    if (!(error instanceof CronSyntaxError)) throw error;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a cron expression this exporter can run (${error.message})` });
  }
});

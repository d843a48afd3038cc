import { validateDetailed } from 'node-cron';
import { z } from 'zod';

/** A node-cron expression (5 fields, or 6 with seconds), rejected at load with the field at fault. */
export const cronExpression = z.string().superRefine((value, ctx) => {
  const result = validateDetailed(value);
  if (!result.valid) {
    const detail = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a cron expression (${detail || value})` });
  }
});

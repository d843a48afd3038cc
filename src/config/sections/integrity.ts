import { z } from 'zod';
import { cronExpression } from '../cron-expression.js';

/** `integrity`: which files are hashed and compared with the baseline, and how often. */
export const integritySectionSchema = z
  .object({
    paths: z.array(z.string().min(1)).default([]),
    exclude: z.array(z.string().min(1)).default([]),
    schedule: cronExpression.default('*/15 * * * *'),
  })
  .strict();

export type IntegrityPolicy = z.infer<typeof integritySectionSchema>;

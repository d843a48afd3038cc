import { z } from 'zod';
import { parseDurationMs, type DurationUnit } from './duration.js';

/** A zod field holding a duration in `units`, as milliseconds; `message` when it is not one. */
export function durationMsField(units: readonly DurationUnit[], message: string) {
  return z.string().transform((text, ctx) => {
    const ms = parseDurationMs(text, units);
    if (ms !== undefined) return ms;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    return z.NEVER;
  });
}

/** A policy duration like `30m`, `6h` or `1d`, in seconds. */
export const durationSeconds = durationMsField(['s', 'm', 'h', 'd'], 'a duration like 30m, 6h or 1d')
  .transform((ms) => ms / 1000)
  .refine((seconds) => seconds > 0, 'must be longer than 0');

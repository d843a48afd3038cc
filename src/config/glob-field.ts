import { z } from 'zod';
import { globError } from '../match/glob.js';

/** A path or path glob, compiled at load so a bad one is refused with its line, not at every scrape. */
export const pathGlob = globChecked(z.string().min(1));

/** A path glob that must be absolute: the integrity collector's watched and excluded paths. */
export const absolutePathGlob = globChecked(z.string().min(1).regex(/^\//, 'an absolute path (starting with /)'));

function globChecked(text: z.ZodString) {
  return text.superRefine((pattern, ctx) => {
    const problem = globError(pattern);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
}

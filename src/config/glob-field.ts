import { z } from 'zod';
import { globError } from '../match/glob.js';

/** A path or path glob, compiled at load so a bad one is refused with its line, not at every scrape. */
export const pathGlob = globChecked(z.string().min(1));

/** A path glob that must be absolute: the integrity collector's watched and excluded paths. */
export const absolutePathGlob = globChecked(z.string().min(1).regex(/^\//, 'an absolute path (starting with /)'));

/** Each pattern is compiled once to check it: the defaults (dozens of globs) are checked at every load. */
const problems = new Map<string, string | undefined>();

function globProblem(pattern: string): string | undefined {
  if (problems.has(pattern)) return problems.get(pattern);
  if (problems.size >= 10_000) problems.clear();
  const problem = globError(pattern);
  problems.set(pattern, problem);
  return problem;
}

function globChecked(text: z.ZodString) {
  return text.superRefine((pattern, ctx) => {
    const problem = globProblem(pattern);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
}

import { z } from 'zod';
import { durationMsField } from '../duration-field.js';

/** Identifiers read from the journal besides everything logged to the auth and authpriv facilities. */
export const defaultJournalIdentifiers = ['sshd', 'sshd-session', 'sshd-auth', 'sudo', 'su', 'login', 'systemd-logind'] as const;

/** `auth`: where authentication events are read from. */
export const authSourceSchema = z
  .object({
    type: z.enum(['file', 'journald']),
    path: z
      .string()
      .min(1)
      .optional()
      .describe('file: the log file (required); journald: a journal file or directory, the system journal when absent'),
    start_at: z.enum(['end', 'beginning']).default('end').describe('where to begin when no position was saved yet'),
    identifiers: z.array(z.string().min(1)).optional().describe('journald: SYSLOG_IDENTIFIERs to read besides the auth facilities'),
  })
  .strict()
  .superRefine((source, ctx) => {
    if (source.type === 'file' && source.path === undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['path'], message: 'a file source needs a path' });
    if (source.type === 'file' && source.identifiers !== undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['identifiers'], message: 'identifiers apply to journald sources only' });
  });

export const authSectionSchema = z
  .object({
    sources: z.array(authSourceSchema).optional().describe('auto-detected when absent'),
    top_sources: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe('opt-in: expose the N source addresses with most failures in 15 minutes'),
    ssh_root_login: z
      .enum(['deny', 'allow'])
      .default('deny')
      .describe('whether root may log in over SSH on this host; the HostGuardRootLoginOverSSH alert fires when it is denied'),
    success_after_failures: z
      .object({
        failures: z
          .number()
          .int()
          .min(0)
          .max(32)
          .default(5)
          .describe(
            'failures from the address, or for the user, within the window before a login that make it a guessed login; 0 turns the judgment off',
          ),
        window: durationMsField(['s', 'm', 'h'], 'a duration like 10m or 1h')
          .default('10m')
          .describe("how far back before the login failures count (by the lines' own timestamps)"),
      })
      .strict()
      .default({})
      .describe('a login after repeated failures (brute force that worked): finding success_after_failures'),
    findings_for: durationMsField(['m', 'h', 'd'], 'a duration like 30m, 24h or 7d')
      .default('24h')
      .describe('how long a success_after_failures or log_tampered finding stays listed after it was seen'),
  })
  .strict()
  .superRefine((section, ctx) => {
    // Two followers of one source would share its saved position and count every line twice.
    const seen = new Set<string>();
    section.sources?.forEach((source, i) => {
      const key = `${source.type}:${source.path ?? ''}`;
      if (seen.has(key))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['sources', i],
          message: `${source.type} source ${source.path ?? '(system journal)'} is listed twice`,
        });
      seen.add(key);
    });
  });

export type AuthPolicy = z.infer<typeof authSectionSchema>;

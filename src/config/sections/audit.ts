import { z } from 'zod';
import { cronExpression } from '../cron-expression.js';
import { durationSeconds } from '../duration-field.js';

const absolutePath = z.string().min(1).regex(/^\//, 'an absolute path (starting with /)');

/** A Lynis test ID as it appears in the report: AUTH-9262, PKGS-7392, LYNIS. */
const lynisTestId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'a Lynis test ID like AUTH-9262');

/** Running Lynis from the exporter, on a schedule; off unless this block is present. */
export const lynisRunSchema = z
  .object({
    schedule: cronExpression.describe('when to run `lynis audit system --cronjob` (never on a scrape)'),
    lynis: absolutePath.optional().describe('the lynis program; found on PATH when absent'),
    profile: absolutePath.optional().describe('a Lynis profile passed with --profile (e.g. skip-test lines)'),
    test_groups: z
      .array(z.string().regex(/^[a-z][a-z_]*$/, 'a Lynis test group like ssh (`lynis show groups`)'))
      .min(1)
      .optional()
      .describe('only these Lynis test groups (--tests-from-group); every group when absent'),
    log_file: absolutePath.default('/var/log/lynis.log').describe("Lynis' own log (--logfile)"),
    timeout: durationSeconds.default('1h').describe('a run still going after this is stopped and counted as timeout'),
  })
  .strict();

/** `audit`: results of scheduled security audits. Absent: the audit collector is inert. */
export const auditSectionSchema = z
  .object({
    lynis_report: absolutePath.describe('the Lynis report to read (lynis-report.dat)'),
    max_report_age: durationSeconds.default('8d').describe('a report older than this is stale (HostGuardAuditReportStale)'),
    accept_warnings: z.array(lynisTestId).default([]).describe('Lynis warnings that are never reported as new, by test ID'),
    run: lynisRunSchema.optional(),
  })
  .strict();

export type LynisRunPolicy = z.infer<typeof lynisRunSchema>;
export type AuditPolicy = z.infer<typeof auditSectionSchema>;

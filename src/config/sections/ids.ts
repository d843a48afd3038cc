import { z } from 'zod';
import { durationSeconds } from '../duration-field.js';

export const idsTools = ['suricata', 'snort', 'wazuh'] as const;
export type IdsTool = (typeof idsTools)[number];

const absolutePath = z.string().min(1).regex(/^\//, 'an absolute path (starting with /)');

/**
 * How long each tool may write nothing before it counts as dead, when the policy does not say:
 * Suricata writes a `stats` record to eve.json every 8 seconds by default, so 5 minutes of silence
 * is a dead sensor. Snort 3's alert_json and Wazuh's alerts.json hold alerts only, so a quiet
 * network or host is silent too: no default, the operator sets what is normal.
 */
export const defaultMaxSilenceSeconds: Readonly<Record<IdsTool, number>> = { suricata: 300, snort: 0, wazuh: 0 };

/** One IDS output file followed like an auth log. */
export const idsSourceSchema = z
  .object({
    type: z.enum(idsTools).describe('suricata: EVE JSON (eve.json); snort: Snort 3 alert_json; wazuh: Wazuh or OSSEC alerts.json'),
    path: absolutePath.describe('the output file, a host path (under --path.rootfs)'),
    start_at: z.enum(['end', 'beginning']).default('end').describe('where to begin when no position was saved yet'),
    max_silence: z
      .union([durationSeconds, z.literal(0)])
      .optional()
      .describe('how long the file may stay unwritten before the source counts as dead (0: never); per tool by default'),
  })
  .strict();

/** `ids`: intrusion detection systems whose alerts are counted. Absent: the ids collector is inert. */
export const idsSectionSchema = z
  .object({
    sources: z.array(idsSourceSchema).min(1),
    top_signatures: z
      .number()
      .int()
      .min(0)
      .max(50)
      .default(0)
      .describe('opt-in: expose the N signatures with most alerts in 15 minutes, with their text'),
    max_event_bytes: z
      .number()
      .int()
      .min(4096)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('longest event line parsed; longer ones are cut, counted as truncated and not parsed'),
  })
  .strict()
  .superRefine((section, ctx) => {
    // Two followers of one file would share its saved position and count every alert twice.
    const seen = new Set<string>();
    section.sources.forEach((source, i) => {
      if (seen.has(source.path))
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sources', i, 'path'], message: `${source.path} is listed twice` });
      seen.add(source.path);
    });
  });

export type IdsPolicy = z.infer<typeof idsSectionSchema>;

import { z } from 'zod';
import type { BaselineEntries } from '../baseline/baseline.js';

/**
 * The processes section of the baseline: one entry per executable path that ran when an operator
 * accepted the host, with the users it ran as *as a daemon* (parented by PID 1). Sessions and jobs
 * (a shell, python, sshd's per-login children) run as whoever logs in, so their users are not
 * learned: judging them by one moment's users would raise an alarm at every new login.
 */
export const processBaselineEntrySchema = z
  .object({
    daemon_users: z.array(z.string()),
  })
  .strict();

export type ProcessBaselineEntry = z.infer<typeof processBaselineEntrySchema>;

export interface ProcessBaseline {
  readonly entries: ReadonlyMap<string, ProcessBaselineEntry>;
  /** Entries that do not have the expected shape: ignored, and said in the log. */
  readonly invalid: readonly string[];
}

/** Validate the section read from the (verified) baseline file; undefined when there is none. */
export function readProcessBaseline(section: BaselineEntries | undefined): ProcessBaseline | undefined {
  if (section === undefined) return undefined;
  const entries = new Map<string, ProcessBaselineEntry>();
  const invalid: string[] = [];
  for (const [exe, value] of Object.entries(section)) {
    const parsed = processBaselineEntrySchema.safeParse(value);
    if (parsed.success) entries.set(exe, parsed.data);
    else invalid.push(exe);
  }
  return { entries, invalid };
}

export function baselineEntries(learned: ReadonlyMap<string, ReadonlySet<string>>): BaselineEntries {
  const entries: BaselineEntries = {};
  for (const exe of [...learned.keys()].sort()) entries[exe] = { daemon_users: [...learned.get(exe)!].sort() };
  return entries;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { BaselineEntries, JsonValue } from '../baseline/baseline.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import type { FileState } from './file-state.js';
import type { PrivilegedEntry } from './judge-privileged.js';
import type { PrivilegedFile } from './privileged-protocol.js';
import { capabilityStates, type PrivilegedObservation } from './privileged-search.js';

/**
 * How privileged files are kept: in the baseline (the integrity section, keys `privileged:PATH`,
 * beside the watched paths' entries) and, for `check`, the last search in the state directory, so
 * a cron job every few minutes does not walk the whole host each time.
 */
export const privilegedKeyPrefix = 'privileged:';

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`));

const entrySchema = z
  .object({
    mode: z.string().regex(/^[0-7]{4}$/),
    uid: z.number().int().nonnegative(),
    gid: z.number().int().nonnegative(),
    sha256: hex(64).optional(),
    capability: z.string().optional(),
  })
  .strict();

export function isPrivilegedKey(key: string): boolean {
  return key.startsWith(privilegedKeyPrefix);
}

/** The baseline entries of a search: one per privileged file. */
export function privilegedBaselineEntries(files: readonly PrivilegedFile[]): BaselineEntries {
  const entries: BaselineEntries = {};
  for (const file of files) {
    const entry: Record<string, JsonValue> = { mode: octal(file.state.mode), uid: file.state.uid, gid: file.state.gid };
    if (file.state.sha256 !== undefined) entry['sha256'] = file.state.sha256;
    if (file.capability !== undefined) entry['capability'] = file.capability;
    entries[`${privilegedKeyPrefix}${file.path}`] = entry;
  }
  return entries;
}

/** The baseline's entry for a path, or undefined (none, or malformed: then the file counts as new, which is safe). */
export function privilegedBaselineEntry(section: BaselineEntries, path: string): PrivilegedEntry | undefined {
  const key = `${privilegedKeyPrefix}${path}`;
  if (!Object.hasOwn(section, key)) return undefined;
  const parsed = entrySchema.safeParse(section[key]);
  if (!parsed.success) return undefined;
  const { mode, uid, gid, sha256, capability } = parsed.data;
  return { mode: parseInt(mode, 8), uid, gid, ...(sha256 !== undefined && { sha256 }), ...(capability !== undefined && { capability }) };
}

/** Whether a baseline section holds any privileged entry: one learned before the search existed holds none. */
export function hasPrivilegedEntries(section: BaselineEntries): boolean {
  return Object.keys(section).some(isPrivilegedKey);
}

const stateSchema = z.object({
  type: z.literal('file'),
  mode: z.number().int(),
  uid: z.number().int(),
  gid: z.number().int(),
  size: z.number().int(),
  inode: z.string(),
  mtimeNs: z.string(),
  ctimeNs: z.string(),
  sha256: z.string().optional(),
  md5: z.string().optional(),
});

const recordSchema = z.object({
  format: z.literal('hostguard-privileged-search/1'),
  startedAt: z.number(),
  finishedAt: z.number(),
  files: z.array(z.object({ path: z.string(), state: stateSchema, capability: z.string().optional() })),
  mountPoints: z.array(z.string()),
  readThrough: z.string(),
  entries: z.number().int(),
  unreadableDirs: z.number().int(),
  capabilities: z.enum(capabilityStates),
  capabilitiesUnchecked: z.number().int(),
  examples: z.array(z.string()),
});

/** The last search, in the state directory. */
export class PrivilegedSearchRecord {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'integrity-privileged-search.json');
  }

  /** The last search, unless it is missing, garbage, or from the future. */
  read(now = Date.now()): PrivilegedObservation | undefined {
    try {
      const parsed = recordSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (!parsed.success || parsed.data.finishedAt > now) return undefined;
      const { format: _format, files, ...rest } = parsed.data;
      return {
        ...rest,
        files: files.map((f) => ({
          path: f.path,
          state: withoutUndefined(f.state),
          ...(f.capability !== undefined && { capability: f.capability }),
        })),
      };
    } catch {
      return undefined;
    }
  }

  write(observation: PrivilegedObservation): boolean {
    try {
      writeFileAtomic(this.path, JSON.stringify({ format: 'hostguard-privileged-search/1', ...observation }) + '\n', 0o600);
      return true;
    } catch {
      return false;
    }
  }
}

function withoutUndefined(state: z.infer<typeof stateSchema>): FileState {
  const { sha256, md5, ...rest } = state;
  return { ...rest, ...(sha256 !== undefined && { sha256 }), ...(md5 !== undefined && { md5 }) };
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

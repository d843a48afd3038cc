import { z } from 'zod';
import type { BaselineEntries } from '../baseline/baseline.js';
import type { InstalledPackage } from './snapshot.js';

/**
 * Two baseline sections the integrity collector keeps beside `integrity` (the watched files):
 *
 * - `packages`: the dpkg database as it was when the files were recorded, one entry per package
 *   (`tree:amd64`: version, state, fingerprint of its database entries, the watched paths it lists).
 *   A package whose fingerprint differs now was installed, upgraded, removed or purged since: only
 *   its files can be explained by the package database.
 * - `history`: the changes accepted by themselves, one entry per package and acceptance, keyed
 *   `<ISO time> <package>`, newest kept (historyLimit).
 *
 * Both are sealed with the rest of the baseline (its SHA-256 and HMAC cover every section).
 */
export const packagesSection = 'packages';
export const historySection = 'history';
/** Accepted package changes kept in the baseline's history; the oldest go first. */
export const historyLimit = 1000;

export const acceptReasons = ['package_install', 'package_upgrade', 'package_removal', 'package_purge', 'package_change'] as const;
export type AcceptReason = (typeof acceptReasons)[number];

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`));

const packageEntrySchema = z
  .object({
    version: z.string(),
    state: z.string(),
    sha256: hex(64),
    paths: z.array(z.string().startsWith('/')).optional(),
  })
  .strict();

/** One package as the baseline recorded it. */
export interface RecordedPackage {
  readonly version: string;
  readonly state: string;
  readonly fingerprint: string;
  readonly paths: ReadonlySet<string>;
}

/**
 * The `packages` section, parsed. An entry of the wrong shape is 'invalid': its package explains
 * nothing (it cannot be told whether it changed), rather than counting as newly installed.
 */
export type RecordedPackages = ReadonlyMap<string, RecordedPackage | 'invalid'>;

export function readPackagesSection(section: BaselineEntries | undefined): RecordedPackages | undefined {
  if (section === undefined) return undefined;
  const out = new Map<string, RecordedPackage | 'invalid'>();
  for (const [key, raw] of Object.entries(section)) {
    const parsed = packageEntrySchema.safeParse(raw);
    out.set(
      key,
      parsed.success
        ? {
            version: parsed.data.version,
            state: parsed.data.state,
            fingerprint: parsed.data.sha256,
            paths: new Set(parsed.data.paths ?? []),
          }
        : 'invalid',
    );
  }
  return out;
}

export function packageEntry(pkg: InstalledPackage): BaselineEntries[string] {
  return { version: pkg.version, state: pkg.state, sha256: pkg.fingerprint, ...(pkg.paths.length > 0 && { paths: [...pkg.paths] }) };
}

/** The `packages` section for a database: settled packages only (one dpkg is half-way through is recorded once it is done). */
export function packagesSectionOf(packages: ReadonlyMap<string, InstalledPackage>): BaselineEntries {
  const section: BaselineEntries = {};
  for (const [key, pkg] of [...packages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    if (pkg.settled) section[key] = packageEntry(pkg);
  return section;
}

const pathChangeSchema = z
  .object({
    change: z.enum(['added', 'changed', 'removed']),
    sha256_before: hex(64).optional(),
    sha256_after: hex(64).optional(),
  })
  .strict();

const historyEntrySchema = z
  .object({
    reason: z.enum(acceptReasons),
    package: z.string(),
    version_before: z.string().optional(),
    version_after: z.string().optional(),
    paths: z.record(z.string(), pathChangeSchema),
  })
  .strict();

export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export type PathChange = z.infer<typeof pathChangeSchema>;

export interface HistoryRecord extends HistoryEntry {
  /** ISO 8601: when the change was accepted. */
  readonly at: string;
}

/** The history's records, oldest first; entries of the wrong shape are skipped. */
export function readHistory(section: BaselineEntries | undefined): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  for (const [key, raw] of Object.entries(section ?? {})) {
    const parsed = historyEntrySchema.safeParse(raw);
    if (parsed.success) out.push({ at: key.split(' ')[0]!, ...parsed.data });
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/** The history with `records` added, the oldest dropped beyond `limit`. */
export function appendHistory(
  section: BaselineEntries | undefined,
  records: readonly HistoryRecord[],
  limit = historyLimit,
): BaselineEntries {
  const entries: Array<[string, BaselineEntries[string]]> = Object.entries(section ?? {});
  for (const { at, ...entry } of records) entries.push([`${at} ${entry.package}`, entry as BaselineEntries[string]]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.slice(Math.max(0, entries.length - limit)));
}

/**
 * The SHA-256 each path had before an accepted package change replaced or removed it: a process
 * still running that content runs the pre-upgrade file, which the baseline vouched for.
 */
export function formerHashes(history: readonly HistoryRecord[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const record of history) {
    for (const [path, change] of Object.entries(record.paths)) {
      if (change.sha256_before === undefined) continue;
      let set = out.get(path);
      if (!set) out.set(path, (set = new Set()));
      set.add(change.sha256_before);
    }
  }
  return out;
}

import { z } from 'zod';
import { cronExpression } from '../cron-expression.js';
import { durationSeconds } from '../duration.js';
import { absolutePathGlob } from '../glob-field.js';

/** What a fresh host watches: binaries, accounts, sudo, ssh, cron and systemd units. */
export const defaultWatchedPaths: readonly string[] = [
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/etc/ssh',
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ld.so.preload',
  '/etc/crontab',
  '/etc/cron.*',
  '/var/spool/cron/crontabs',
  '/etc/systemd/system',
  '/usr/lib/systemd/system',
];

/** `integrity`: which files are hashed and compared with the baseline, and how often. */
export const integritySectionSchema = z
  .object({
    paths: z.array(absolutePathGlob).default([...defaultWatchedPaths]),
    exclude: z.array(absolutePathGlob).default([]),
    schedule: cronExpression.default('*/15 * * * *'),
    full_rehash_interval: durationSeconds.default('6h'),
    hash_workers: z.number().int().min(1).max(16).default(2),
    running_executables: z.boolean().default(true),
    package_database: z.boolean().default(true),
    /**
     * Paths a scan lists at most. Memory grows with the watched set (about 3 KiB a path while a
     * baseline is learned, 1 KiB in serve); beyond this the scan stops listing, says so in
     * hostguard_integrity_scan_problems{problem="over_limit"}, and reports nothing as removed
     * below what it did not list. A directory of a million files cannot exhaust the host.
     */
    max_paths: z.number().int().min(1).default(100_000),
  })
  .strict();

export type IntegrityPolicy = z.infer<typeof integritySectionSchema>;

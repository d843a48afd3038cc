import { z } from 'zod';
import { cronExpression } from '../cron-expression.js';
import { durationSeconds } from '../duration-field.js';
import { absolutePathGlob } from '../glob-field.js';

/**
 * What a fresh host watches: binaries, and where intruders persist on Linux (MITRE ATT&CK's
 * persistence and privilege-escalation locations). The embedded default policy lists the same
 * paths with the reason for each (src/config/default-policy.ts; a test keeps them equal).
 * Paths that do not exist cost nothing and are watched from their nearest existing directory.
 */
export const defaultWatchedPaths: readonly string[] = [
  // binaries
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  // accounts and privilege
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/sudoers.d',
  // SSH (every account's authorized_keys: ssh_authorized_keys)
  '/etc/ssh',
  // PAM
  '/etc/pam.d',
  '/etc/security',
  '/usr/lib/*-linux-gnu*/security',
  '/lib/*-linux-gnu*/security',
  '/usr/lib/security',
  '/usr/lib64/security',
  '/lib/security',
  '/lib64/security',
  // shell start-up
  '/etc/profile',
  '/etc/profile.d',
  '/etc/bash.bashrc',
  '/etc/environment',
  '/etc/zsh',
  '/root/.bashrc',
  '/root/.profile',
  '/root/.bash_profile',
  '/root/.bash_login',
  '/root/.bash_logout',
  '/root/.zshrc',
  // boot and service start
  '/etc/rc.local',
  '/etc/init.d',
  '/etc/rc?.d',
  '/etc/systemd/system',
  '/usr/lib/systemd/system',
  '/usr/local/lib/systemd/system',
  '/etc/systemd/user',
  '/usr/lib/systemd/user',
  '/etc/systemd/system-generators',
  '/usr/lib/systemd/system-generators',
  '/usr/local/lib/systemd/system-generators',
  '/etc/systemd/user-generators',
  '/usr/lib/systemd/user-generators',
  '/etc/xdg/autostart',
  '/etc/update-motd.d',
  '/etc/udev/rules.d',
  '/etc/NetworkManager/dispatcher.d',
  '/etc/apt/apt.conf.d',
  // loader and kernel
  '/etc/ld.so.preload',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/modules',
  '/etc/modules-load.d',
  '/etc/modprobe.d',
  '/etc/sysctl.conf',
  '/etc/sysctl.d',
  // scheduled jobs
  '/etc/crontab',
  '/etc/cron.*',
  '/etc/anacrontab',
  '/var/spool/cron/crontabs',
  '/var/spool/cron/atjobs',
  '/etc/at.allow',
  '/etc/at.deny',
  // name resolution
  '/etc/hosts',
  '/etc/nsswitch.conf',
];

/**
 * `integrity.privileged_files`: the search of the local file systems for setuid, setgid and
 * file-capability files (src/integrity/privileged-search.ts).
 */
const privilegedFilesSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Hourly by default; `serve` also searches once at start. */
    schedule: cronExpression.default('17 * * * *'),
    /** Read file capabilities of executables with getcap (libcap2-bin); without it, setuid and setgid only. */
    capabilities: z.boolean().default(true),
    /** Globs of host paths not searched (a backup volume, a build tree). */
    exclude: z.array(absolutePathGlob).default([]),
    /** Directory entries examined per second at most (bounds the walk's I/O); 0: no limit. Learning is never limited. */
    max_entries_per_second: z.number().int().min(0).default(50_000),
  })
  .strict();

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
     * Also watch every account's SSH authorized keys (and ~/.ssh/rc): the files sshd's
     * AuthorizedKeysFile names (sshd_config and its Includes; sshd's default when unset) for each
     * account of /etc/passwd with a home. Expanded again when /etc/passwd or sshd's configuration changes.
     */
    ssh_authorized_keys: z.boolean().default(true),
    /** Opt-in: every account's shell start-up files (~/.bashrc, ~/.profile, ...); they change legitimately. */
    user_startup_files: z.boolean().default(false),
    /** In `serve`, watch the paths with inotify and judge a change at once; the schedule stays as the backstop. */
    realtime: z.boolean().default(true),
    privileged_files: privilegedFilesSchema.default({}),
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

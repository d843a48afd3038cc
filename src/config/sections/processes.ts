import { z } from 'zod';
import { cronExpression } from '../cron-expression.js';
import { durationSeconds } from '../duration-field.js';
import { pathGlob } from '../glob-field.js';
import { fleetFactsSchema } from './fleet-facts.js';

/** `processes`: which executables may run, as whom, under which parent. First matching rule wins. */
export const processRuleSchema = z
  .object({
    exe: pathGlob.describe('executable path or glob (/usr/sbin/*, /opt/app/**)'),
    users: z.array(z.string().min(1)).min(1).optional().describe('users it may run as; any when absent'),
    parent: pathGlob.optional().describe('executable path or glob of the parent process'),
    comment: z.string().optional(),
  })
  .strict();

/** Places where an executable is a red flag whatever else allows it: anyone can write there. */
export const defaultWritableLocations = [
  '/tmp/**',
  '/var/tmp/**',
  '/dev/shm/**',
  '/run/shm/**',
  '/dev/mqueue/**',
  '/run/lock/**',
  '/var/lock/**',
  '/run/user/**',
  '/memfd:**',
] as const;

const writableLocationsSchema = z
  .object({
    paths: z.array(pathGlob).default([...defaultWritableLocations]),
    /** Also report executables under the home directories of root and regular users (from passwd). */
    home_directories: z.boolean().default(false),
    /** Deliberate exceptions: executables (paths or globs) accepted although they lie in such a place. */
    except: z.array(pathGlob).default([]),
  })
  .strict();

/** A name that only these executables may carry (as comm or argv[0]): `sshd` must be sshd. */
export const protectedNameSchema = z
  .object({
    name: z.string().min(1).max(64),
    exe: z.array(pathGlob).min(1),
  })
  .strict();

/** Names attackers borrow for their processes, and the executables that really carry them on Debian. */
export const defaultProtectedNames: z.input<typeof protectedNameSchema>[] = [
  { name: 'sshd', exe: ['/usr/sbin/sshd', '/usr/lib/openssh/*'] },
  { name: 'cron', exe: ['/usr/sbin/cron'] },
  { name: 'crond', exe: ['/usr/sbin/crond'] },
  { name: 'systemd', exe: ['/usr/lib/systemd/systemd', '/lib/systemd/systemd'] },
  { name: 'rsyslogd', exe: ['/usr/sbin/rsyslogd'] },
  { name: 'dbus-daemon', exe: ['/usr/bin/dbus-daemon'] },
  { name: 'nginx', exe: ['/usr/sbin/nginx'] },
  { name: 'apache2', exe: ['/usr/sbin/apache2'] },
  { name: 'httpd', exe: ['/usr/sbin/httpd', '/usr/sbin/apache2'] },
  { name: 'mysqld', exe: ['/usr/sbin/mysqld', '/usr/sbin/mariadbd'] },
  { name: 'postgres', exe: ['/usr/lib/postgresql/*/bin/postgres'] },
];

/**
 * Shells and interpreters, by the executable's basename (glob patterns): a program that runs
 * whatever it is given. Read by the network collector (shell_on_socket, outbound by default) and by
 * the judgment of exec events.
 */
export const defaultInterpreters = [
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'mksh',
  'csh',
  'tcsh',
  'fish',
  'busybox',
  'python',
  'python[0-9]*',
  'perl',
  'perl[0-9]*',
  'ruby',
  'ruby[0-9]*',
  'php',
  'php[0-9]*',
  'node',
  'nodejs',
  'lua',
  'lua[0-9]*',
  'luajit',
  'awk',
  'gawk',
  'mawk',
  'nawk',
  'tclsh',
  'tclsh[0-9]*',
  'expect',
] as const;

/** A glob matched against an executable's basename (`python3*`), never a path. */
export const programNameGlob = pathGlob.refine((p) => !p.includes('/'), {
  message: "a program's file name or a glob of it (python3*), without a directory",
});

const resourceHogSchema = z
  .object({
    /** CPU a process not accounted for may use, in cores, averaged since the previous collection. */
    cpu_cores: z.number().positive().default(0.5),
    resident_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 ** 3),
  })
  .strict();

const startWatchSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** How often new PIDs are looked for; a process living longer than this is seen. */
    interval_seconds: z.number().min(0.1).max(10).default(0.5),
  })
  .strict();

const hiddenSweepSchema = z
  .object({
    enabled: z.boolean().default(true),
    schedule: cronExpression.default('*/10 * * * *'),
    /** Also compare with what `ps` reports (a trojaned ps, or a library hook that hides from it). */
    compare_ps: z.boolean().default(true),
  })
  .strict();

const absolutePath = z.string().min(1).regex(/^\//, 'an absolute path (starting with /)');

/** Every exec, from the kernel's audit log as auditd writes it (deploy/audit/hostguard.rules loads the rules). */
const execEventsSchema = z
  .object({
    source: z.literal('auditd').default('auditd').describe('auditd: its log file, followed like `tail -F`'),
    path: absolutePath.default('/var/log/audit/audit.log').describe("auditd's log_file, a host path"),
    rule_key: z
      .string()
      .min(1)
      .max(64)
      .default('hostguard_exec')
      .describe('the key (-k) of the exec rules: their removal is exec_auditing_off'),
    hold: durationSeconds.default('15m').describe('how long a flagged exec whose process is gone stays a finding'),
    start_at: z.enum(['end', 'beginning']).default('end').describe('where to begin when no position was saved yet'),
  })
  .strict();

export type ExecEventsPolicy = z.infer<typeof execEventsSchema>;

const injectedCodeSchema = z
  .object({
    /** Read /proc/PID/maps and environ of new processes and, on hidden_sweep.schedule, of all. */
    enabled: z.boolean().default(true),
  })
  .strict();

export const processesSectionSchema = z
  .object({
    allow: z.array(processRuleSchema).default([]),
    /** Executables that belong to an installed package (dpkg file lists under --path.rootfs) are known. */
    packaged_executables: z.boolean().default(true),
    writable_locations: writableLocationsSchema.default({}),
    protected_names: z.array(protectedNameSchema).default(defaultProtectedNames),
    interpreters: z.array(programNameGlob).default([...defaultInterpreters]),
    resource_hog: resourceHogSchema.default({}),
    start_watch: startWatchSchema.default({}),
    hidden_sweep: hiddenSweepSchema.default({}),
    exec_events: execEventsSchema.optional(),
    injected_code: injectedCodeSchema.default({}),
    fleet_facts: fleetFactsSchema.default({}),
  })
  .strict();

export type ProcessesPolicy = z.infer<typeof processesSectionSchema>;

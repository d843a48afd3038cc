import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/**
 * The real auditd, started by a test with a configuration of its own (its log in a temporary
 * directory), the rules of deploy/audit/hostguard.rules loaded, and everything it changed in the
 * kernel put back when it stops: the rules loaded before, the backlog limit, the enabled flag. The
 * kernel's audit is host-wide: only tests under test/serial use it, one file at a time.
 */
export interface RunningAuditd {
  readonly log: string;
  readonly child: ChildProcess;
  /** auditctl with these arguments; throws with its stderr when it fails. */
  auditctl(...args: string[]): string;
  /** Load deploy/audit/hostguard.rules (again). */
  loadRules(): void;
  stop(): Promise<void>;
}

// No vitest hooks here: the exec benchmark starts auditd too.
export const hostguardRules = join(import.meta.dirname, '..', '..', 'deploy', 'audit', 'hostguard.rules');

export async function startAuditd(dir: string): Promise<RunningAuditd> {
  const auditd = requireTool('auditd', 'auditd');
  const auditctl = requireTool('auditctl', 'auditd');
  const run = (...args: string[]) => execFileSync(auditctl, args, { encoding: 'utf8' });
  const saved = { rules: run('-l'), status: run('-s') };
  const field = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(saved.status)?.[1] ?? 0);
  const log = join(dir, 'audit.log');
  mkdirSync(join(dir, 'plugins'), { recursive: true });
  writeFileSync(
    join(dir, 'auditd.conf'),
    [
      `log_file = ${log}`,
      'log_format = ENRICHED',
      'write_logs = yes',
      'flush = INCREMENTAL_ASYNC',
      'freq = 50',
      'max_log_file = 64',
      'num_logs = 4',
      'max_log_file_action = ROTATE',
      'space_left = 2',
      'space_left_action = IGNORE',
      'admin_space_left = 1',
      'admin_space_left_action = IGNORE',
      'disk_full_action = IGNORE',
      'disk_error_action = IGNORE',
      'q_depth = 4000',
      'overflow_action = SYSLOG',
      `plugin_dir = ${join(dir, 'plugins')}`,
      '',
    ].join('\n'),
  );
  // Its own auditd, in the foreground: stopped by PID in stop(), which the caller runs in afterAll or finally.
  const child = spawn(auditd, ['-n', '-c', dir], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!new RegExp(`^pid ${child.pid}$`, 'm').test(run('-s'))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`auditd did not register with the kernel (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // The kernel's default backlog (64) drops records in a burst; Debian's rules raise it to 8192.
  run('-b', '8192');
  const loadRules = () => void run('-R', hostguardRules);
  loadRules();
  return {
    log,
    child,
    auditctl: run,
    loadRules,
    stop: async () => {
      run('-D');
      if (!/^No rules/.test(saved.rules)) {
        const file = join(dir, 'saved.rules');
        writeFileSync(file, saved.rules);
        run('-R', file);
      }
      run('-b', String(field('backlog_limit')));
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      run('-e', String(field('enabled')));
    },
  };
}

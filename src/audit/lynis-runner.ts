import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { delimiter, dirname, basename, join } from 'node:path';
import type { LynisRunPolicy } from '../config/sections/audit.js';
import type { Logger } from '../log/logger.js';
import { findLynisPidFiles, lynisPidFiles, type PidFileFinding } from './lynis-pid-file.js';
import { parseLynisReport } from './lynis-report.js';

/** busy: a Lynis not started by the exporter (cron, an operator) was running, so this run was skipped. */
export const lynisRunResults = ['success', 'failed', 'timeout', 'not_installed', 'busy'] as const;
export type LynisRunResult = (typeof lynisRunResults)[number];

export interface LynisRun {
  readonly result: LynisRunResult;
  readonly seconds: number;
}

// Where Debian and the RHEL family install it; PATH of a service often lacks the sbin directories.
const fallbackDirs = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
const stopGraceMs = 5000;

/** The lynis program: the policy's, else the first on PATH or in the usual directories. */
export function findLynis(configured: string | undefined, path = process.env.PATH ?? ''): string | undefined {
  if (configured !== undefined) return isExecutableFile(configured) ? configured : undefined;
  for (const dir of [...path.split(delimiter), ...fallbackDirs]) {
    if (dir !== '' && isExecutableFile(join(dir, 'lynis'))) return join(dir, 'lynis');
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    const s = statSync(path);
    return s.isFile() && (s.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Runs `lynis audit system --cronjob` in the background, writing to a temporary report beside the
 * real one and renaming it into place only when complete, so a reader never sees a half-written
 * report from our own runs. Lynis runs in its own process group: a timeout or stop() ends the
 * whole run (its find and grep children too) with SIGTERM, which Lynis traps to remove its PID
 * file, and SIGKILL after a grace period.
 */
export class LynisRunner {
  private child: ChildProcess | undefined;
  private stopping = false;
  private removedPidFiles = 0;

  constructor(private readonly log: Logger) {}

  async run(policy: LynisRunPolicy, reportPath: string): Promise<LynisRun> {
    this.stopping = false;
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    const lynis = findLynis(policy.lynis);
    if (!lynis) {
      this.log.warn('lynis is not installed; no audit was run (Debian package lynis)', { lynis: policy.lynis ?? 'lynis on PATH' });
      return { result: 'not_installed', seconds: 0 };
    }
    const running = this.clearStalePidFiles();
    if (running) {
      this.log.warn('another Lynis run is in progress (not started by the exporter); this run is skipped', {
        pid: running.pid,
        pid_file: running.file,
      });
      return { result: 'busy', seconds: 0 };
    }
    const temporary = join(dirname(reportPath), `.${basename(reportPath)}.hostguard-run`);
    const args = ['audit', 'system', '--cronjob', '--report-file', temporary, '--logfile', policy.log_file];
    if (policy.profile !== undefined) args.push('--profile', policy.profile);
    if (policy.test_groups !== undefined) args.push('--tests-from-group', policy.test_groups.join(' '));
    this.log.info('running lynis', { lynis, report: reportPath });
    const outcome = await this.spawnAndWait(lynis, args, policy.timeout * 1000);
    try {
      if (this.stopping) {
        this.log.info('lynis run stopped at shutdown');
        return { result: 'failed', seconds: seconds() };
      }
      if (outcome.timedOut) {
        this.log.warn('lynis did not finish in time and was stopped', { timeout_seconds: policy.timeout });
        return { result: 'timeout', seconds: seconds() };
      }
      const parsed = existsSync(temporary) ? parseLynisReport(readFileSync(temporary, 'utf8')) : undefined;
      if (parsed?.status !== 'complete') {
        this.log.warn('lynis did not write a complete report', {
          exit_code: outcome.code,
          signal: outcome.signal,
          stderr: outcome.stderr.trim().split('\n').slice(-3).join(' | '),
        });
        return { result: 'failed', seconds: seconds() };
      }
      renameSync(temporary, reportPath);
      this.log.info('lynis finished', {
        seconds: seconds().toFixed(1),
        exit_code: outcome.code,
        hardening_index: parsed.report.hardeningIndex,
        warnings: parsed.report.warnings.length,
      });
      return { result: 'success', seconds: seconds() };
    } finally {
      removeQuietly(temporary);
    }
  }

  /** PID files removed because the run they named was gone: each would have made every later run quit. */
  get stalePidFilesRemoved(): number {
    return this.removedPidFiles;
  }

  /**
   * Before a run: remove every Lynis PID file whose run is gone, and answer the live Lynis that
   * holds one, if any (a cron job, an operator's run): that run is left alone, and ours skipped.
   */
  private clearStalePidFiles(): { pid: number; file: string } | undefined {
    let running: { pid: number; file: string } | undefined;
    for (const found of findLynisPidFiles()) {
      if (found.verdict.kind === 'live_lynis') running ??= { pid: found.verdict.pid, file: found.file };
      else this.removePidFile(found, found.verdict.reason);
    }
    return running;
  }

  private removePidFile(found: PidFileFinding, reason: string): void {
    const fields = { pid_file: found.file, pid: found.verdict.pid ?? 'none', reason };
    try {
      unlinkSync(found.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // its run ended meanwhile
      this.log.error('cannot remove a stale Lynis PID file: Lynis refuses to run while it exists', {
        ...fields,
        err: (error as Error).message,
      });
      return;
    }
    this.removedPidFiles++;
    this.log.warn('removed a stale Lynis PID file left by a run that is gone', fields);
  }

  /** Stop a run in progress (exporter shutdown); resolves when it has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    terminateGroup(child);
    await exited;
  }

  /**
   * A Lynis killed before its trap ran leaves its PID file, and every later cron-mode run then
   * quits at once ("another Lynis process is running"). Remove it only when it names our run.
   */
  private removeStalePidFile(pid: number): void {
    for (const found of findLynisPidFiles(lynisPidFiles(), () => undefined)) {
      if (found.verdict.pid === pid) this.removePidFile(found, 'the exporter stopped that run');
    }
  }

  private spawnAndWait(
    command: string,
    args: string[],
    timeoutMs: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; timedOut: boolean }> {
    return new Promise((resolve) => {
      let stderr = '';
      let timedOut = false;
      const child = spawn(command, args, { cwd: '/', detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      this.child = child;
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4096);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        terminateGroup(child);
      }, timeoutMs);
      timer.unref();
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        this.child = undefined;
        if (signal !== null && child.pid !== undefined) this.removeStalePidFile(child.pid);
        resolve({ code, signal, stderr, timedOut });
      };
      child.once('error', (error) => {
        stderr += error.message;
        finish(null, null);
      });
      child.once('exit', finish);
    });
  }
}

/** SIGTERM to the whole process group, SIGKILL to what is left after the grace period. */
function terminateGroup(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  signalGroup(pid, 'SIGTERM');
  const kill = setTimeout(() => signalGroup(pid, 'SIGKILL'), stopGraceMs);
  kill.unref();
  child.once('exit', () => clearTimeout(kill));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

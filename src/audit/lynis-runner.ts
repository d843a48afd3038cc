import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, basename, join } from 'node:path';
import type { LynisRunPolicy } from '../config/sections/audit.js';
import type { Logger } from '../log/logger.js';
import { parseLynisReport } from './lynis-report.js';

export const lynisRunResults = ['success', 'failed', 'timeout', 'not_installed'] as const;
export type LynisRunResult = (typeof lynisRunResults)[number];

export interface LynisRun {
  readonly result: LynisRunResult;
  readonly seconds: number;
}

// Where Debian and the RHEL family install it; PATH of a service often lacks the sbin directories.
const fallbackDirs = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
const stopGraceMs = 5000;
/** Where Lynis keeps its PID file: /var/run as root, the home directory otherwise. */
const pidFiles = ['/var/run/lynis.pid', join(homedir(), 'lynis.pid')];

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
    const temporary = join(dirname(reportPath), `.${basename(reportPath)}.hostguard-run`);
    const args = ['audit', 'system', '--cronjob', '--report-file', temporary, '--logfile', policy.log_file];
    if (policy.profile !== undefined) args.push('--profile', policy.profile);
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
        this.log.warn('lynis did not write a complete report', { exit_code: outcome.code, signal: outcome.signal, stderr: outcome.stderr.trim().split('\n').slice(-3).join(' | ') });
        return { result: 'failed', seconds: seconds() };
      }
      renameSync(temporary, reportPath);
      this.log.info('lynis finished', { seconds: seconds().toFixed(1), exit_code: outcome.code, hardening_index: parsed.report.hardeningIndex, warnings: parsed.report.warnings.length });
      return { result: 'success', seconds: seconds() };
    } finally {
      removeQuietly(temporary);
    }
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
    for (const file of pidFiles) {
      try {
        if (readFileSync(file, 'utf8').trim() !== String(pid)) continue;
        unlinkSync(file);
        this.log.info('removed the PID file of the stopped Lynis run', { file });
      } catch {
        // none there
      }
    }
  }

  private spawnAndWait(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; timedOut: boolean }> {
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

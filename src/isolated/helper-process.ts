import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isStallable, ownMountsIfReadable } from '../procfs/mounts.js';
import type { StuckTarget } from '../procfs/stuck-reads.js';
import type { Progress, Request, RequestBody, Response } from './protocol.js';

/** A helper stopped answering while it touched `target`: it was killed, and the request is to be retried without it. */
export class HelperStuckError extends Error {
  override name = 'HelperStuckError';
  constructor(
    readonly target: StuckTarget,
    /** Resolves when the killed helper is gone: when its stuck call returned, or at once if the kill could end it. */
    readonly gone: Promise<void>,
  ) {
    super(`helper stuck on ${'mount' in target ? `mount ${target.mount}` : `the root of PID ${target.pid}`}`);
  }
}

interface Pending {
  readonly id: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One helper process (helper.ts), and the watchdog that tells when it is stuck: a request is
 * outstanding and neither a progress line nor an answer came for `stallMs`. It is then killed with
 * SIGKILL — which ends it at once when its call waits killably, and otherwise when the call returns
 * — and the request fails with HelperStuckError naming what it was touching.
 */
export class HelperProcess {
  private readonly child: ChildProcess;
  private pending: Pending | undefined;
  private nextId = 1;
  /** The helper said it is ready: from then on, silence while a request is outstanding counts. */
  private ready = false;
  private readonly startedAt = performance.now();
  private lastSign = performance.now();
  private touching: StuckTarget | undefined;
  /**
   * The helper said it began the pending request. The progress pipe and the IPC channel are two
   * streams: a line of the previous request can arrive after its answer, and must not be taken
   * for what this one touches.
   */
  private begun = false;
  private watchdog: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private dead = false;
  /** Resolves once the process is gone. */
  readonly gone: Promise<void>;

  constructor(
    private readonly stallMs: number,
    private readonly idleMs: number,
    private readonly onIdle: (helper: HelperProcess) => void,
  ) {
    const { command, args } = helperCommand();
    this.child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: {
        ...process.env,
        MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? '1',
        MALLOC_TRIM_THRESHOLD_: process.env['MALLOC_TRIM_THRESHOLD_'] ?? '0',
      },
    });
    // A helper that could not even start emits 'error' and no 'exit'.
    this.gone = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.once('error', () => resolve());
    });
    void this.gone.then(() => {
      this.dead = true;
      this.stopWatchdog();
      this.pending?.reject(new Error('helper process exited'));
      this.pending = undefined;
    });
    this.child.on('message', (response: Response) => this.answered(response));
    const progress = this.child.stdio[3] as Readable;
    createInterface({ input: progress }).on('line', (line) => this.progressed(line));
    this.idle();
  }

  get alive(): boolean {
    return !this.dead;
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Send one request; rejects with HelperStuckError when the helper stops answering meanwhile. */
  call<T>(call: RequestBody): Promise<T> {
    if (this.dead) return Promise.reject(new Error('helper process exited'));
    if (this.pending) return Promise.reject(new Error('helper busy'));
    const id = this.nextId++;
    clearTimeout(this.idleTimer);
    this.keepAlive(true);
    this.lastSign = performance.now();
    this.touching = undefined;
    this.begun = false;
    return new Promise<T>((resolve, reject) => {
      this.pending = { id, resolve: resolve as (result: unknown) => void, reject };
      this.child.send({ ...call, id } as Request);
      this.watchdog = setInterval(() => this.check(), Math.max(25, Math.min(250, this.stallMs / 4)));
    });
  }

  /** End the helper now. One stuck in the kernel dies when its call returns; nobody waits for that. */
  kill(): void {
    if (this.dead) return;
    this.stopWatchdog();
    clearTimeout(this.idleTimer);
    this.keepAlive(false);
    this.child.kill('SIGKILL');
  }

  private answered(response: Response): void {
    const pending = this.pending;
    if (!pending || response.id !== pending.id) return;
    this.pending = undefined;
    this.stopWatchdog();
    this.idle();
    if (response.ok) pending.resolve(response.result);
    else pending.reject(new Error(response.error));
  }

  private progressed(line: string): void {
    let progress: Progress;
    try {
      progress = JSON.parse(line) as Progress;
    } catch {
      return;
    }
    if (progress.ready) {
      this.ready = true;
      return;
    }
    if (progress.request !== undefined) this.begun = progress.request === this.pending?.id;
    if (!this.begun) return;
    this.lastSign = performance.now();
    if (progress.request !== undefined) return;
    else if (progress.mount !== undefined) this.touching = { kind: 'file_system', mount: progress.mount };
    else if (progress.pid !== undefined) this.touching = { kind: 'file_system', pid: progress.pid };
  }

  private check(): void {
    if (!this.pending) return;
    if (!this.ready) {
      // A helper that does not even start within a generous bound is broken, not stuck on a file system.
      if (performance.now() - this.startedAt > startupMs) this.fail(new Error(`helper process did not start within ${startupMs / 1000}s`));
      return;
    }
    if (performance.now() - this.lastSign < this.stallMs) return;
    // The event loop may itself have been late: the progress or the answer may be waiting to be read.
    // setImmediate runs after the loop has polled for them, so only true silence is judged.
    setImmediate(() => {
      if (!this.pending || performance.now() - this.lastSign < this.stallMs) return;
      // Before its first call a helper reads its own mount table, from /proc: nothing there can stall.
      // Silence before that is a slow host (the helper not yet scheduled), judged only past a generous bound.
      if (!this.touching) {
        if (performance.now() - this.lastSign > startupMs)
          this.fail(new Error(`helper process silent for ${startupMs / 1000}s before touching any file system`));
        return;
      }
      const silentMs = performance.now() - this.lastSign;
      if ('mount' in this.touching && silentMs < localStallMs && isLocalMount(this.touching.mount)) return;
      const pending = this.pending;
      this.pending = undefined;
      this.kill();
      pending.reject(new HelperStuckError(this.touching, this.gone));
    });
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    this.kill();
    pending?.reject(error);
  }

  /** Idle: unreferenced (a finished command is not kept alive by it), and ended after idleMs. */
  private idle(): void {
    this.keepAlive(false);
    if (this.dead) return;
    this.idleTimer = setTimeout(() => this.onIdle(this), this.idleMs);
    this.idleTimer.unref();
  }

  private keepAlive(ref: boolean): void {
    const channel = this.child.channel as { ref(): void; unref(): void } | undefined;
    const progress = this.child.stdio[3] as (Readable & { ref?(): void; unref?(): void }) | null;
    if (ref) {
      this.child.ref();
      channel?.ref();
      progress?.ref?.();
    } else {
      this.child.unref();
      channel?.unref();
      progress?.unref?.();
    }
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}

/** How long a helper may take to start before a request to it fails. */
const startupMs = 60_000;

/**
 * The silence after which a helper touching a local file system (ext4, xfs, tmpfs, overlay: no
 * FUSE server or network behind it) is declared stuck. Such a call waits only on the machine's
 * own disk, which a burst of writeback on a busy host can hold for seconds; declaring the root
 * file system stuck then would skip every watched path until the next scan. The wait costs the
 * helper, never the event loop, so a local call gets this long; one on a file system that may
 * stall gets `stallMs`.
 */
const localStallMs = 60_000;

/** Whether `mount` (a mount point the helper named) is a local file system, by the exporter's mount table. */
function isLocalMount(mount: string): boolean {
  const found = ownMountsIfReadable('/proc')?.mounts.find((m) => m.mountPoint === mount);
  return found !== undefined && !isStallable(found.fsType);
}

/**
 * How to start helper.ts: the compiled .js under dist/ directly; from sources (vitest, the
 * benchmarks under tsx), through tsx's loader. The exporter's heap flags go along.
 */
function helperCommand(): { command: string; args: string[] } {
  const flags = ['--max-semi-space-size=1', '--optimize-for-size'];
  if (import.meta.url.endsWith('.ts')) {
    const tsx = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs');
    return {
      command: process.execPath,
      args: [...flags, '--import', pathToFileURL(tsx).href, fileURLToPath(new URL('./helper.ts', import.meta.url))],
    };
  }
  return { command: process.execPath, args: [...flags, helperScript()] };
}

/** The script helper processes run (built): the processes collector knows them as the exporter's own. */
export function helperScript(): string {
  return fileURLToPath(new URL('./helper.js', import.meta.url));
}

import type { HiddenPortsPolicy } from '../config/sections/listeners.js';
import type { Logger } from '../log/logger.js';
import { parsePortRange } from '../match/port-range.js';
import { readNetTables, type NetProtocol } from '../procfs/net.js';
import { scheduleWork, type Schedule } from '../scheduler/schedule.js';
import { sweepHiddenPorts, type SweepResult } from './hidden-ports.js';
import { createBindProbe, type PortProbe } from './port-probe.js';

/** One sweep: aborted when a policy change or a stop supersedes it, so its result is never kept. */
interface SweepRun {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/**
 * Runs the hidden-port sweep in `serve`: once at start, then on the policy's schedule, never on the
 * scrape path. Collections read the last result.
 */
export class HiddenPortSweeper {
  private schedule: Schedule | undefined;
  private config: HiddenPortsPolicy | undefined;
  private current: SweepRun | undefined;
  private stopped = false;
  private probe: PortProbe | undefined;
  private result: SweepResult | undefined;

  constructor(
    private readonly procfs: string,
    private readonly log: Logger,
    private readonly createProbe: () => PortProbe = createBindProbe,
  ) {}

  /** The last finished sweep, or undefined before the first (and in `check`, which never sweeps). */
  get lastResult(): SweepResult | undefined {
    return this.result;
  }

  /**
   * Start, reschedule or stop the sweep to follow the policy. A change of what is swept (ports,
   * protocols, confirmation delay) drops the last result, which answered another question, and
   * sweeps again at once.
   */
  configure(config: HiddenPortsPolicy): void {
    const previous = this.config;
    this.config = config;
    if (!config.enabled) {
      this.schedule?.stop();
      this.schedule = undefined;
      this.current?.controller.abort();
      this.result = undefined;
      return;
    }
    if (!this.schedule) {
      this.schedule = scheduleWork('network hidden-port sweep', config.schedule, () => this.sweep(), this.log);
      void this.schedule.runNow();
      return;
    }
    this.schedule.reschedule(config.schedule);
    if (previous && sweptSettings(previous) === sweptSettings(config)) return;
    this.result = undefined;
    const schedule = this.schedule;
    if (this.current) {
      // The schedule joins a run in progress: let the superseded one stop, then sweep again.
      this.current.controller.abort();
      void schedule.runNow().then(() => (this.schedule === schedule ? schedule.runNow() : undefined));
    } else {
      void schedule.runNow();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.schedule?.stop();
    this.schedule = undefined;
    this.current?.controller.abort();
    // The running sweep stops at its next slice; with none running this returns at once.
    await this.current?.done;
  }

  /** One run: a run that a disable and re-enable left behind is aborted and waited for, never run beside. */
  private async sweep(): Promise<void> {
    const previous = this.current;
    previous?.controller.abort();
    let finished = (): void => undefined;
    const run: SweepRun = { controller: new AbortController(), done: new Promise<void>((resolve) => (finished = resolve)) };
    this.current = run;
    try {
      await previous?.done;
      await this.sweepOnce(run.controller.signal);
    } finally {
      if (this.current === run) this.current = undefined;
      finished();
    }
  }

  private async sweepOnce(signal: AbortSignal): Promise<void> {
    const config = this.config;
    if (!config?.enabled || signal.aborted || this.stopped) return;
    try {
      this.probe ??= this.createProbe();
    } catch (error) {
      this.log.error('hidden-port sweep unavailable: cannot bind without listening on this Node.js', { err: (error as Error).message });
      return;
    }
    try {
      const result = await sweepHiddenPorts({
        protocols: config.protocols,
        ports: parsePortRange(config.ports),
        confirmDelayMs: config.confirm_delay_seconds * 1000,
        probe: this.probe,
        visiblePorts: (protocol) => visiblePorts(this.procfs, protocol),
        signal,
      });
      if (signal.aborted) return;
      this.result = result;
      this.log.info('hidden-port sweep finished', {
        hidden: result.hidden.map((h) => `${h.protocol}/${h.port}`).join(',') || 'none',
        probed: result.probed.tcp + result.probed.udp,
        candidates: result.candidates,
        seconds: result.durationSeconds.toFixed(2),
      });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}

/** What a sweep's result depends on (the schedule only says when it runs). */
function sweptSettings(config: HiddenPortsPolicy): string {
  return JSON.stringify([config.ports, [...config.protocols].sort(), config.confirm_delay_seconds]);
}

function visiblePorts(procfs: string, protocol: NetProtocol): Set<number> {
  return new Set(readNetTables(procfs, { protocols: new Set([protocol]) }).sockets.map((s) => s.localPort));
}

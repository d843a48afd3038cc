import type { HiddenPortsPolicy } from '../config/sections/listeners.js';
import type { Logger } from '../log/logger.js';
import { parsePortRange } from '../policy/port-range.js';
import { readNetTables, type NetProtocol } from '../procfs/net.js';
import { scheduleWork, type Schedule } from '../scheduler/schedule.js';
import { sweepHiddenPorts, type SweepResult } from './hidden-ports.js';
import { createBindProbe, type PortProbe } from './port-probe.js';

/**
 * Runs the hidden-port sweep in `serve`: once at start, then on the policy's schedule, never on the
 * scrape path. Collections read the last result.
 */
export class HiddenPortSweeper {
  private schedule: Schedule | undefined;
  private config: HiddenPortsPolicy | undefined;
  private abort = new AbortController();
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

  /** Start, reschedule or stop the sweep to follow the policy. */
  configure(config: HiddenPortsPolicy): void {
    this.config = config;
    if (!config.enabled) {
      this.schedule?.stop();
      this.schedule = undefined;
      this.result = undefined;
      return;
    }
    if (this.schedule) {
      this.schedule.reschedule(config.schedule);
      return;
    }
    this.schedule = scheduleWork('network hidden-port sweep', config.schedule, () => this.sweep(), this.log);
    void this.schedule.runNow();
  }

  async stop(): Promise<void> {
    this.schedule?.stop();
    this.abort.abort();
    // Joins the running sweep, which stops at its next slice; with none running this returns at once.
    await this.schedule?.runNow().catch(() => undefined);
    this.schedule = undefined;
  }

  private async sweep(): Promise<void> {
    const config = this.config;
    if (!config?.enabled || this.abort.signal.aborted) return;
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
        signal: this.abort.signal,
      });
      if (!this.config?.enabled) return;
      this.result = result;
      this.log.info('hidden-port sweep finished', {
        hidden: result.hidden.map((h) => `${h.protocol}/${h.port}`).join(',') || 'none',
        probed: result.probed.tcp + result.probed.udp,
        candidates: result.candidates,
        seconds: result.durationSeconds.toFixed(2),
      });
    } catch (error) {
      if (this.abort.signal.aborted) return;
      throw error;
    }
  }
}

function visiblePorts(procfs: string, protocol: NetProtocol): Set<number> {
  return new Set(readNetTables(procfs, { protocols: new Set([protocol]) }).sockets.map((s) => s.localPort));
}

import { Command, InvalidArgumentError, Option } from 'commander';
import { collectorInfos } from '../collectors/catalog.js';
import { parseDurationMs } from '../config/duration.js';
import { logFormats, logLevels, type LogFormat, type LogLevel } from '../log/logger.js';
import { defaultStateDir } from '../state/state-dir.js';
import { UsageError } from './exit-codes.js';

/** Above the exhausted 9100–9999 exporter range; see README ("Port"). */
export const defaultListenAddress = ':10177';

export interface GlobalOptions {
  readonly listenAddresses: readonly string[];
  readonly telemetryPath: string;
  readonly webConfigFile: string | undefined;
  readonly maxRequests: number;
  readonly webDisabled: boolean;
  readonly textfilePath: string | undefined;
  readonly textfileIntervalMs: number;
  /** --collector.timeout; undefined when not given, so each subcommand applies its own default. */
  readonly collectorTimeoutMs: number | undefined;
  /** --baseline.timeout; undefined when not given (the exporter's default applies). */
  readonly baselineTimeoutMs: number | undefined;
  readonly configFile: string | undefined;
  readonly procfs: string;
  readonly rootfs: string;
  readonly stateDir: string;
  readonly baselineKeyFile: string | undefined;
  readonly maxFindingSeries: number;
  readonly showFindingDetails: boolean;
  readonly enabledCollectors: readonly string[];
  /** Each collector that does not run, with why in flag terms: "disabled (--no-collector.ids)". */
  readonly disabledCollectors: ReadonlyMap<string, string>;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

/** Options shared by every subcommand, spelled the way Prometheus' own exporters spell them. */
export function addGlobalOptions(program: Command): Command {
  program
    .addOption(
      new Option('--web.listen-address <address>', 'address to listen on for the web interface and telemetry (repeatable)')
        .argParser(collect)
        .default([], `"${defaultListenAddress}"`),
    )
    .option('--web.telemetry-path <path>', 'path under which to expose metrics', '/metrics')
    .option('--web.config.file <file>', 'exporter-toolkit web configuration file (TLS, basic auth)')
    .option('--web.max-requests <n>', 'maximum concurrent scrapes; 0 disables the limit', integer, 100)
    .option('--web.disable', 'serve no HTTP at all (use with --textfile.path)', false)
    .option('--textfile.path <file>', "also write the metrics to this file atomically, for node_exporter's textfile collector (*.prom)")
    .option('--textfile.interval <duration>', 'how often to write --textfile.path', duration, 30_000)
    .option('--config.file <file>', 'policy file (YAML); the embedded default policy when absent')
    .option('--path.procfs <path>', 'procfs mountpoint', '/proc')
    .option('--path.rootfs <path>', 'host root filesystem mountpoint', '/')
    .option('--state.dir <dir>', 'directory for the baseline and log positions', defaultStateDir())
    .option('--baseline.hmac-key-file <file>', 'key for an HMAC over the baseline, so edits without the key are detected')
    .option('--metrics.max-finding-series <n>', 'series per per-finding metric (unknown executables, listeners, files)', integer, 100)
    .option(
      '--findings.show-details',
      'show user names and remote addresses in findings (page, /api/findings, check); redacted by default',
      false,
    )
    .option(
      '--collector.timeout <duration>',
      'how long one collector may take in a collection before it is reported failed (default: 10s; 5m for check, whose collection hashes files)',
      positiveDuration,
    )
    .option(
      '--baseline.timeout <duration>',
      "how long one collector may take to learn its part of the baseline in baseline init, update and diff, and in serve's first start (default: 30m, since learning rehashes every watched file)",
      positiveDuration,
    )
    .option('--collector.disable-defaults', 'disable every collector not enabled by its own flag', false)
    .addOption(new Option('--log.level <level>', 'only log messages with this severity or above').choices(logLevels).default('info'))
    .addOption(new Option('--log.format <format>', 'output format of log messages').choices(logFormats).default('logfmt'));
  for (const definition of collectorInfos) {
    const state = definition.defaultEnabled ? 'enabled' : 'disabled';
    program.option(`--collector.${definition.name}`, `${definition.description} (default: ${state})`);
    program.option(`--no-collector.${definition.name}`, `disable the ${definition.name} collector`);
  }
  return program;
}

export function readGlobalOptions(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<Record<string, unknown>>();
  const telemetryPath = String(opts['web.telemetryPath']);
  if (!telemetryPath.startsWith('/')) throw new UsageError(`--web.telemetry-path must start with "/", got "${telemetryPath}"`);
  const listen = opts['web.listenAddress'] as string[];
  return {
    listenAddresses: listen.length > 0 ? listen : [defaultListenAddress],
    telemetryPath,
    webConfigFile: opts['web.config.file'] as string | undefined,
    maxRequests: opts['web.maxRequests'] as number,
    webDisabled: Boolean(opts['web.disable']),
    textfilePath: opts['textfile.path'] as string | undefined,
    textfileIntervalMs: opts['textfile.interval'] as number,
    collectorTimeoutMs: opts['collector.timeout'] as number | undefined,
    baselineTimeoutMs: opts['baseline.timeout'] as number | undefined,
    configFile: opts['config.file'] as string | undefined,
    procfs: String(opts['path.procfs']),
    rootfs: String(opts['path.rootfs']),
    stateDir: String(opts['state.dir']),
    baselineKeyFile: opts['baseline.hmacKeyFile'] as string | undefined,
    maxFindingSeries: opts['metrics.maxFindingSeries'] as number,
    showFindingDetails: Boolean(opts['findings.showDetails']),
    ...collectorChoice(opts, Boolean(opts['collector.disableDefaults'])),
    logLevel: opts['log.level'] as LogLevel,
    logFormat: opts['log.format'] as LogFormat,
  };
}

/** A collector runs if its flag says so, else if it is on by default and defaults are not disabled. */
function collectorChoice(
  opts: Record<string, unknown>,
  disableDefaults: boolean,
): Pick<GlobalOptions, 'enabledCollectors' | 'disabledCollectors'> {
  const enabled: string[] = [];
  const disabled = new Map<string, string>();
  for (const d of collectorInfos) {
    const flag = opts[`collector.${d.name}`];
    if (flag === true || (flag === undefined && d.defaultEnabled && !disableDefaults)) enabled.push(d.name);
    else if (flag === false) disabled.set(d.name, `disabled (--no-collector.${d.name})`);
    else if (disableDefaults) disabled.set(d.name, `not enabled (--collector.disable-defaults without --collector.${d.name})`);
    else disabled.set(d.name, `off by default (enable it with --collector.${d.name})`);
  }
  return { enabledCollectors: enabled, disabledCollectors: disabled };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A Prometheus-style duration in milliseconds: 500ms, 30s, 5m, 1h. */
function duration(value: string): number {
  const ms = parseDurationMs(value, ['ms', 's', 'm', 'h']);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration like 30s, 5m or 500ms');
  return ms;
}

function positiveDuration(value: string): number {
  const ms = duration(value);
  if (ms === 0) throw new InvalidArgumentError('expected a duration longer than 0');
  return ms;
}

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

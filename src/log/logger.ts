/**
 * A small structured logger with the two formats Prometheus components use: logfmt (default) and
 * JSON, written to stderr. Kept in-house because both formats are a few lines each and the
 * exporter must not pull a transport framework onto a host it guards.
 */

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ['logfmt', 'json'] as const;
export type LogFormat = (typeof logFormats)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  write?: (line: string) => void;
  now?: () => Date;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (rank[level] < rank[options.level]) return;
    const record: LogFields = { time: now().toISOString(), level, msg, ...bound, ...fields };
    write(options.format === 'json' ? JSON.stringify(record, jsonReplacer) : toLogfmt(record));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    with: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that drops everything: for commands whose stdout is the product. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => silentLogger,
};

function jsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

export function toLogfmt(record: LogFields): string {
  return Object.entries(record)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${logfmtValue(value)}`)
    .join(' ');
}

function logfmtValue(value: unknown): string {
  const text =
    value instanceof Error
      ? value.message
      : typeof value === 'string'
        ? value
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : String(value);
  // Quote anything that would split the pair or the line; escape like Go's strconv.Quote.
  if (text === '' || /[\s"=\\\u0000-\u001f\u007f]/.test(text)) {
    return JSON.stringify(text);
  }
  return text;
}

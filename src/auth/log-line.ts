import { parseDaemonLogLine } from './daemon-log-line.js';
import { parseSyslogLine, type LogRecord } from './syslog-line.js';

/** One line of an auth source: a syslog line in any dialect parseSyslogLine knows, else a daemon's own log format. */
export function parseLogLine(line: string): LogRecord | undefined {
  return parseSyslogLine(line) ?? parseDaemonLogLine(line);
}

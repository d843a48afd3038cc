import { parseDaemonLogLine } from './daemon-log-line.js';
import { parseSyslogLine, type LogRecord, type LogRecordSlot } from './syslog-line.js';

/**
 * One line of an auth source: a syslog line in any dialect parseSyslogLine knows, else a daemon's
 * own log format. With `into`, the record may be `into` itself, valid until the next line is read into it.
 */
export function parseLogLine(line: string, into?: LogRecordSlot): LogRecord | undefined {
  return parseSyslogLine(line, into) ?? parseDaemonLogLine(line);
}

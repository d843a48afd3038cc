import { fieldsOf, fieldText, keysOf } from './record.js';
import type { AuditEvent } from './stitcher.js';

/**
 * A change to auditing itself, as the log records it: what an intruder does first to a host that
 * audits execs. The kernel writes CONFIG_CHANGE for every `auditctl -e`, `-D`, `-d`, `-a` that
 * succeeds; auditd writes DAEMON_START, DAEMON_END and DAEMON_ABORT about itself.
 */
export type AuditControlChange =
  | { readonly change: 'enabled'; readonly timeMs: number; readonly enabled: boolean; readonly auid: number | undefined }
  | {
      readonly change: 'rule_removed' | 'rule_added';
      readonly timeMs: number;
      readonly keys: readonly string[];
      readonly auid: number | undefined;
    }
  | { readonly change: 'daemon_started' | 'daemon_stopped'; readonly timeMs: number };

const unsetId = '4294967295';

/** The control changes in one event (none for the usual one). */
export function controlChangesOf(event: AuditEvent): AuditControlChange[] {
  const changes: AuditControlChange[] = [];
  for (const record of event.records) {
    if (record.type === 'CONFIG_CHANGE') {
      const fields = fieldsOf(record.body);
      if (fields.get('res') !== '1' && fields.get('res') !== 'success') continue;
      const rawAuid = fields.get('auid');
      const auid = rawAuid === undefined || rawAuid === unsetId || !/^\d+$/.test(rawAuid) ? undefined : Number(rawAuid);
      const enabled = fields.get('audit_enabled');
      const op = fieldText('op', fields.get('op'));
      if (enabled !== undefined) changes.push({ change: 'enabled', timeMs: event.timeMs, enabled: enabled !== '0', auid });
      else if (op === 'remove_rule' || op === 'add_rule')
        changes.push({
          change: op === 'remove_rule' ? 'rule_removed' : 'rule_added',
          timeMs: event.timeMs,
          keys: keysOf(fields.get('key')),
          auid,
        });
    } else if (record.type === 'DAEMON_START') {
      changes.push({ change: 'daemon_started', timeMs: event.timeMs });
    } else if (record.type === 'DAEMON_END' || record.type === 'DAEMON_ABORT') {
      changes.push({ change: 'daemon_stopped', timeMs: event.timeMs });
    }
  }
  return changes;
}

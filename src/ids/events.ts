import type { IdsTool } from '../config/sections/ids.js';
import {
  classtypeToCategory,
  prioritySeverity,
  wazuhGroupsToCategory,
  wazuhLevelSeverity,
  type AlertCategory,
  type AlertSeverity,
} from './classes.js';

/** One IDS alert, reduced to what is counted: bounded classes, plus the signature for the opt-in top-N. */
export interface IdsAlert {
  readonly severity: AlertSeverity;
  readonly category: AlertCategory;
  /** gid:sid for Suricata and Snort, the rule id for Wazuh. */
  readonly signatureId: string;
  readonly signature: string;
  /** When the tool saw it (ms since the epoch); undefined when the event has no readable time. */
  readonly at: number | undefined;
}

export const unparsedReasons = ['invalid_json', 'not_an_event'] as const;
export type UnparsedReason = (typeof unparsedReasons)[number];

/** What one line of an IDS output file is. */
export type IdsLine =
  | { readonly kind: 'alert'; readonly alert: IdsAlert }
  /** A valid event that is not an alert (Suricata's flow, dns, stats records). */
  | { readonly kind: 'other' }
  | { readonly kind: 'unparsed'; readonly reason: UnparsedReason };

type Json = Record<string, unknown>;

/**
 * Parse one line of a tool's output. A line that is not JSON is tried once more from the last
 * place a new event seems to begin: a writer that died mid-line leaves its fragment glued to the
 * next event, and that event must still count. `onFragment` hears about the lost fragment.
 */
export function parseIdsLine(tool: IdsTool, line: string, onFragment?: () => void): IdsLine {
  const object = parseObject(line);
  if (object === 'invalid') {
    const resumed = resumeAfterFragment(line);
    if (resumed === undefined) return { kind: 'unparsed', reason: 'invalid_json' };
    onFragment?.();
    return interpret(tool, resumed);
  }
  return interpret(tool, object);
}

function interpret(tool: IdsTool, event: Json): IdsLine {
  switch (tool) {
    case 'suricata':
      return suricataEvent(event);
    case 'snort':
      return snortEvent(event);
    case 'wazuh':
      return wazuhEvent(event);
  }
}

/** Suricata EVE: every record has event_type; only `alert` records are alerts. */
export function suricataEvent(event: Json): IdsLine {
  if (typeof event.event_type !== 'string') return { kind: 'unparsed', reason: 'not_an_event' };
  if (event.event_type !== 'alert') return { kind: 'other' };
  const alert = asObject(event.alert);
  if (!alert) return { kind: 'unparsed', reason: 'not_an_event' };
  const sid = asInteger(alert.signature_id);
  return {
    kind: 'alert',
    alert: {
      severity: prioritySeverity(asInteger(alert.severity)),
      category: classtypeToCategory(asString(alert.category)),
      signatureId: `${asInteger(alert.gid) ?? 1}:${sid ?? '?'}`,
      signature: asString(alert.signature) ?? '',
      at: isoTime(asString(event.timestamp)),
    },
  };
}

/**
 * Snort 3 alert_json: every record is an alert. Which fields exist depends on
 * `alert_json.fields`; the default set has `rule` but no `priority`, `class` or `msg`, so such
 * alerts count with severity and category unknown.
 */
export function snortEvent(event: Json): IdsLine {
  const rule = asString(event.rule);
  const gid = asInteger(event.gid);
  const sid = asInteger(event.sid);
  if (rule === undefined && sid === undefined) return { kind: 'unparsed', reason: 'not_an_event' };
  const signatureId = rule !== undefined ? rule.split(':').slice(0, 2).join(':') : `${gid ?? 1}:${sid}`;
  const seconds = asInteger(event.seconds);
  return {
    kind: 'alert',
    alert: {
      severity: prioritySeverity(asInteger(event.priority)),
      category: classtypeToCategory(asString(event.class)),
      signatureId,
      signature: asString(event.msg) ?? signatureId,
      at: seconds !== undefined ? seconds * 1000 : snortTime(asString(event.timestamp)),
    },
  };
}

/** Wazuh alerts.json (rule.id, rule.description, rule.groups) and OSSEC's (rule.sidid, rule.comment, rule.group "a,b,"). */
export function wazuhEvent(event: Json): IdsLine {
  const rule = asObject(event.rule);
  const level = rule ? asInteger(rule.level) : undefined;
  if (!rule || level === undefined) return { kind: 'unparsed', reason: 'not_an_event' };
  const groups = Array.isArray(rule.groups)
    ? rule.groups.filter((g): g is string => typeof g === 'string')
    : (asString(rule.group) ?? '').split(',').filter((g) => g !== '');
  const id = asString(rule.id) ?? String(asInteger(rule.sidid) ?? '?');
  const stamp = asInteger(event.TimeStamp);
  return {
    kind: 'alert',
    alert: {
      severity: wazuhLevelSeverity(level),
      category: wazuhGroupsToCategory(groups),
      signatureId: id,
      signature: asString(rule.description) ?? asString(rule.comment) ?? id,
      at: stamp !== undefined ? stamp : isoTime(asString(event.timestamp)),
    },
  };
}

function parseObject(line: string): Json | 'invalid' {
  try {
    const value: unknown = JSON.parse(line);
    return asObject(value) ?? 'invalid';
  } catch {
    return 'invalid';
  }
}

// Every tool writes "timestamp" first (Snort 3 by default, with spaces around the colon).
const eventStart = /\{\s*"timestamp"\s*:/g;

/** Tries at most this many later starts, so a long line of garbage costs a bounded number of parses. */
const maxResumeAttempts = 8;

function resumeAfterFragment(line: string): Json | undefined {
  eventStart.lastIndex = 1;
  let attempts = 0;
  for (let match = eventStart.exec(line); match && attempts < maxResumeAttempts; match = eventStart.exec(line), attempts++) {
    const object = parseObject(line.slice(match.index));
    if (object !== 'invalid') return object;
  }
  return undefined;
}

function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return undefined;
}

const isoPattern = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/;

/** Suricata's and Wazuh's ISO 8601 times: microseconds and offsets without a colon (+0000) included. */
export function isoTime(text: string | undefined): number | undefined {
  const m = text === undefined ? null : isoPattern.exec(text);
  if (!m) return undefined;
  const fraction = m[3] ? m[3].slice(0, 4).padEnd(4, '0') : '';
  const zone = m[4] === undefined ? '' : m[4] === 'Z' ? 'Z' : `${m[4].slice(0, 3)}:${m[4].slice(-2)}`;
  const ms = Date.parse(`${m[1]}T${m[2]}${fraction}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}

const snortPattern = /^(?:(\d\d)\/)?(\d\d)\/(\d\d)-(\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/;

/**
 * Snort's "MM/DD-hh:mm:ss.uuuuuu" (or "YY/MM/DD-..." with `-y`), in the sensor's local time. Without
 * a year, the most recent such date not more than a day ahead of `now` is taken.
 */
export function snortTime(text: string | undefined, now = Date.now()): number | undefined {
  const m = text === undefined ? null : snortPattern.exec(text);
  if (!m) return undefined;
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const at = (year: number) => new Date(year, month - 1, day, hour, minute, second, ms).getTime();
  if (m[1] !== undefined) return at(2000 + Number(m[1]));
  const thisYear = new Date(now).getFullYear();
  return at(thisYear) > now + 86_400_000 ? at(thisYear - 1) : at(thisYear);
}

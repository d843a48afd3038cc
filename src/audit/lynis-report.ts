/**
 * Lynis' machine-readable report (/var/log/lynis-report.dat): `key=value` lines, `key[]=value`
 * for lists, `#` comments. Lynis writes it as the audit runs, so a report being written has no
 * `report_datetime_end` and no `hardening_index` yet: it is incomplete, not broken.
 */
export interface LynisWarning {
  /** The Lynis test that raised it (AUTH-9262); the first `|` field. */
  readonly test: string;
  readonly text: string;
}

export interface LynisReport {
  readonly lynisVersion: string | undefined;
  readonly hardeningIndex: number | undefined;
  readonly warnings: readonly LynisWarning[];
  readonly suggestions: number;
  /** report_datetime_start / _end as ms since the epoch (Lynis writes the host's local time). */
  readonly startedAt: number | undefined;
  readonly endedAt: number | undefined;
  /** Lines that are neither `key=value`, `key[]=value`, a comment nor empty. */
  readonly strangeLines: number;
}

export const reportReadResults = ['complete', 'incomplete', 'invalid', 'missing', 'unreadable'] as const;
export type ReportReadResult = (typeof reportReadResults)[number];

/** The newest complete report read, and what the file at the path holds now. */
export interface ReportState {
  readonly held: LynisReport | undefined;
  readonly current: ReportReadResult;
  readonly reason: string | undefined;
}

export type ParsedReport =
  | { readonly status: 'complete'; readonly report: LynisReport }
  | { readonly status: 'incomplete'; readonly report: LynisReport }
  | { readonly status: 'invalid'; readonly reason: string };

const line = /^([a-z][a-z0-9_-]*)(\[\])?=(.*)$/i;

export function parseLynisReport(text: string): ParsedReport {
  // A last line without its newline is still being written.
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  const scalars = new Map<string, string>();
  const warnings: LynisWarning[] = [];
  let suggestions = 0;
  let strangeLines = 0;
  let fields = 0;
  for (const raw of lines) {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l === '' || l.startsWith('#')) continue;
    const m = line.exec(l);
    if (!m) {
      strangeLines++;
      continue;
    }
    fields++;
    const [, key, list, value] = m as unknown as [string, string, string | undefined, string];
    if (list === undefined) scalars.set(key, value);
    else if (key === 'warning') warnings.push(warningOf(value));
    else if (key === 'suggestion') suggestions++;
  }
  if (fields === 0) return { status: 'invalid', reason: text.length === 0 ? 'empty file' : 'no key=value lines: not a Lynis report' };
  if (fields < strangeLines)
    return { status: 'invalid', reason: `${strangeLines} of ${fields + strangeLines} lines are not key=value: not a Lynis report` };
  const index = scalars.get('hardening_index');
  const hardeningIndex = index !== undefined && /^\d{1,3}$/.test(index) && Number(index) <= 100 ? Number(index) : undefined;
  const report: LynisReport = {
    lynisVersion: scalars.get('lynis_version'),
    hardeningIndex,
    warnings,
    suggestions,
    startedAt: localTime(scalars.get('report_datetime_start')),
    endedAt: localTime(scalars.get('report_datetime_end')),
    strangeLines,
  };
  if (index !== undefined && hardeningIndex === undefined)
    return { status: 'invalid', reason: `hardening_index=${index.slice(0, 20)} is not a number from 0 to 100` };
  return { status: report.endedAt !== undefined && hardeningIndex !== undefined ? 'complete' : 'incomplete', report };
}

function warningOf(value: string): LynisWarning {
  const [test = '', text = ''] = value.split('|');
  return { test: test.trim() || 'unknown', text: text.trim() };
}

const datetime = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$/;

function localTime(text: string | undefined): number | undefined {
  const m = text === undefined ? null : datetime.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const at = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isNaN(at) ? undefined : at;
}

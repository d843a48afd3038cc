/**
 * A finding is one thing on the host that the policy and baseline do not account for. It is the
 * single type every output reads (metrics, the landing page, /api/findings, `check`), so they can
 * never disagree.
 */
import { compareText } from '../text/compare.js';

export const severities = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof severities)[number];

/** Bounded, operator-readable attributes of what was found: executable, port, path, user. */
export type FindingSubject = Readonly<Record<string, string | number | boolean>>;

export interface Finding {
  readonly collector: string;
  readonly kind: string;
  /** A default severity for `check` and the page; alert rules decide what pages. */
  readonly severity: Severity;
  readonly subject: FindingSubject;
  readonly message: string;
}

/** Identity of a finding across collections: same collector, kind and subject. */
export function findingKey(finding: Finding): string {
  const subject = Object.keys(finding.subject)
    .sort()
    .map((key) => [key, finding.subject[key]]);
  return JSON.stringify([finding.collector, finding.kind, subject]);
}

const severityRank: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Most severe first, then by collector, kind and subject, so every output lists them alike. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank[a.severity] - severityRank[b.severity] ||
    compareText(a.collector, b.collector) ||
    compareText(a.kind, b.kind) ||
    compareText(findingKey(a), findingKey(b))
  );
}

export function subjectText(subject: FindingSubject): string {
  return Object.entries(subject)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
}

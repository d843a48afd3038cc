import { z } from 'zod';
import type { BaselineEntries } from '../baseline/baseline.js';
import type { AuditPolicy } from '../config/sections/audit.js';
import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { auditKinds } from './kinds.js';
import type { LynisReport, ReportState } from './lynis-report.js';

/** The audit section of the baseline: `hardening_index` → number, `warning:TEST-ID` → the warning text. */
export interface AuditBaseline {
  readonly hardeningIndex: number | undefined;
  readonly warnings: ReadonlySet<string>;
}

const warningPrefix = 'warning:';

/** What `baseline init`/`update` records from a complete report (nothing without one). */
export function learnAudit(report: LynisReport | undefined): BaselineEntries {
  if (!report) return {};
  const entries: BaselineEntries = {};
  if (report.hardeningIndex !== undefined) entries.hardening_index = report.hardeningIndex;
  for (const w of report.warnings) entries[`${warningPrefix}${w.test}`] ??= w.text;
  return entries;
}

/** The baseline's audit section, validated; entries that do not fit are ignored. */
export function auditBaselineOf(section: BaselineEntries | undefined): AuditBaseline | undefined {
  if (!section) return undefined;
  const index = z.number().int().min(0).max(100).safeParse(section.hardening_index);
  const warnings = new Set(
    Object.keys(section)
      .filter((k) => k.startsWith(warningPrefix))
      .map((k) => k.slice(warningPrefix.length)),
  );
  return { hardeningIndex: index.success ? index.data : undefined, warnings };
}

/** Warnings of the report neither the baseline nor the policy accepts, by test ID, with how many times each appears. */
export function newWarnings(
  report: LynisReport,
  baseline: AuditBaseline | undefined,
  policy: AuditPolicy,
): Map<string, { text: string; count: number }> {
  const accepted = new Set(policy.accept_warnings);
  const found = new Map<string, { text: string; count: number }>();
  for (const w of report.warnings) {
    if (accepted.has(w.test) || baseline?.warnings.has(w.test)) continue;
    const seen = found.get(w.test);
    if (seen) seen.count++;
    else found.set(w.test, { text: w.text, count: 1 });
  }
  return found;
}

/** Judgment: pure, from the report state, the baseline and the policy at `now` (ms) to findings. */
export function judgeAudit(state: ReportState, baseline: AuditBaseline | undefined, policy: AuditPolicy, now: number): Finding[] {
  const report = state.held;
  const subject = { report: policy.lynis_report };
  if (!report) {
    const message = `no complete Lynis report at ${policy.lynis_report}: ${state.current}${state.reason ? ` (${state.reason})` : ''}`;
    return [finding(auditKinds.report_unavailable, subject, message, state.current === 'incomplete' ? 'info' : 'warning')];
  }
  const findings: Finding[] = [];
  const ageSeconds = report.endedAt === undefined ? Number.POSITIVE_INFINITY : (now - report.endedAt) / 1000;
  if (ageSeconds > policy.max_report_age) {
    const message = `the newest complete Lynis report is ${Math.round(ageSeconds / 3600)} h old (allowed: ${Math.round(policy.max_report_age / 3600)} h): the scheduled audit is not running`;
    findings.push(finding(auditKinds.report_stale, subject, message));
  }
  if (baseline?.hardeningIndex !== undefined && report.hardeningIndex !== undefined && report.hardeningIndex < baseline.hardeningIndex) {
    findings.push(
      finding(
        auditKinds.hardening_index_dropped,
        subject,
        `Lynis hardening index ${report.hardeningIndex}, down from ${baseline.hardeningIndex} in the baseline`,
      ),
    );
  }
  for (const [test, w] of newWarnings(report, baseline, policy)) {
    findings.push(finding(auditKinds.new_warning, { test }, `Lynis warning ${test}: ${w.text}`));
  }
  return findings;
}

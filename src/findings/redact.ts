import type { Finding } from './finding.js';

/**
 * Subject fields that identify people or other hosts: user names and remote addresses. The
 * outputs (landing page, /api/findings, `check`) replace them by default, in the subject and
 * wherever the message repeats them; --findings.show-details opts in to the full detail. Labels
 * never carry them at all.
 */
export const sensitiveSubjectKeys = ['user', 'remote_address'] as const;
export const redacted = '[redacted]';

export function redactFinding(finding: Finding): Finding {
  const values = sensitiveSubjectKeys.map((key) => finding.subject[key]).filter((v): v is string => typeof v === 'string' && v !== '');
  if (values.length === 0) return finding;
  const subject = { ...finding.subject };
  for (const key of sensitiveSubjectKeys) if (key in subject) subject[key] = redacted;
  let message = finding.message;
  for (const value of values) message = replaceWord(message, value);
  return { ...finding, subject, message };
}

export function presentFindings(findings: readonly Finding[], showDetails: boolean): readonly Finding[] {
  return showDetails ? findings : findings.map(redactFinding);
}

/** Replace `value` where it stands as a word of its own, so "root" in "rootkit" survives. */
function replaceWord(text: string, value: string): string {
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(?<![\\w.:-])${escaped}(?![\\w.-])`, 'g'), redacted);
}

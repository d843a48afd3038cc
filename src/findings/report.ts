import { compareFindings, subjectText, type Finding } from './finding.js';

/** The JSON document of `check --format json` and `GET /api/findings`. */
export interface FindingsDocument {
  findings: Array<{
    collector: string;
    kind: string;
    severity: string;
    subject: Record<string, string | number | boolean>;
    message: string;
  }>;
}

export function findingsDocument(findings: readonly Finding[]): FindingsDocument {
  return {
    findings: [...findings].sort(compareFindings).map((f) => ({
      collector: f.collector,
      kind: f.kind,
      severity: f.severity,
      subject: { ...f.subject },
      message: f.message,
    })),
  };
}

/** A fixed-width table for terminals; long cells are cut, never wrapped. */
export function findingsTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings\n';
  const header = ['SEVERITY', 'COLLECTOR', 'KIND', 'SUBJECT', 'MESSAGE'];
  const rows = [...findings]
    .sort(compareFindings)
    .map((f) => [f.severity, f.collector, f.kind, clip(subjectText(f.subject), 70), clip(oneLine(f.message), 90)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line), `${findings.length} finding${findings.length === 1 ? '' : 's'}`].join('\n') + '\n';
}

/** Control characters from process or file names must not reach a terminal as escape sequences. */
function oneLine(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

function clip(text: string, max: number): string {
  const flat = oneLine(text);
  return flat.length <= max ? flat : flat.slice(0, max - 1) + '…';
}

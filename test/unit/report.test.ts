import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/finding.js';
import { findingsDocument, findingsTable } from '../../src/findings/report.js';

const findings: Finding[] = [
  {
    collector: 'ports',
    kind: 'unexpected_listener',
    severity: 'warning',
    subject: { protocol: 'tcp', port: 4444 },
    message: 'tcp port 4444 is not allowed',
  },
  { collector: 'processes', kind: 'writable_location', severity: 'critical', subject: { exe: '/tmp/x' }, message: 'runs from /tmp' },
];

describe('findings output', () => {
  it('orders the JSON document most severe first with exactly the documented fields', () => {
    expect(findingsDocument(findings)).toEqual({
      findings: [
        { collector: 'processes', kind: 'writable_location', severity: 'critical', subject: { exe: '/tmp/x' }, message: 'runs from /tmp' },
        {
          collector: 'ports',
          kind: 'unexpected_listener',
          severity: 'warning',
          subject: { protocol: 'tcp', port: 4444 },
          message: 'tcp port 4444 is not allowed',
        },
      ],
    });
  });

  it('prints a table with a count, and "no findings" when quiet', () => {
    const table = findingsTable(findings);
    expect(table.split('\n')[0]).toMatch(/^SEVERITY\s+COLLECTOR\s+KIND\s+SUBJECT\s+MESSAGE$/);
    expect(table).toContain('critical  processes  writable_location    exe=/tmp/x');
    expect(table.trimEnd().endsWith('2 findings')).toBe(true);
    expect(findingsTable([])).toBe('no findings\n');
  });

  it('never lets control characters from a process name reach the terminal', () => {
    const hostile: Finding = {
      collector: 'processes',
      kind: 'name_mismatch',
      severity: 'warning',
      subject: { comm: 'x\u001b[2Jy' },
      message: 'a\nb',
    };
    const table = findingsTable([hostile]);
    expect(table).not.toContain('\u001b');
    expect(table).toContain('comm=x\\x1b[2Jy');
    expect(table.split('\n')).toHaveLength(4);
  });
});

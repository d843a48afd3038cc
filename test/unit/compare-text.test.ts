import { describe, expect, it } from 'vitest';
import { compareFindings, type Finding } from '../../src/findings/finding.js';
import { compareText } from '../../src/text/compare.js';

describe('text order', () => {
  it('orders by code units, not by locale: upper case before lower, accents after z', () => {
    expect(['b', 'é', 'a', 'B', 'z', 'A'].sort(compareText)).toEqual(['A', 'B', 'a', 'b', 'z', 'é']);
    expect(compareText('/usr/bin/x', '/usr/bin/x')).toBe(0);
  });

  it('lists findings of equal severity by collector, kind and subject in that order', () => {
    const finding = (collector: string, kind: string, exe: string): Finding => ({
      collector,
      kind,
      severity: 'warning',
      subject: { exe },
      message: 'm',
    });
    const sorted = [
      finding('processes', 'unknown_executable', '/tmp/b'),
      finding('network', 'z', '/a'),
      finding('processes', 'unknown_executable', '/tmp/B'),
    ].sort(compareFindings);
    expect(sorted.map((f) => `${f.collector} ${f.subject.exe}`)).toEqual(['network /a', 'processes /tmp/B', 'processes /tmp/b']);
  });
});

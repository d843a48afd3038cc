import { describe, expect, it } from 'vitest';
import { loadPolicy, parsePolicy } from '../../src/config/load-policy.js';
import { sectionCollectors } from '../../src/config/policy-schema.js';
import { unreadSections } from '../../src/config/unread-sections.js';

describe('policy sections no running collector reads', () => {
  it('are the sections the file writes whose collector is off, each with the flag that turned it off', () => {
    const disabled = new Map([
      ['network', 'disabled (--no-collector.network)'],
      ['audit', 'not enabled (--collector.disable-defaults without --collector.audit)'],
    ]);
    expect(unreadSections(['processes', 'listeners', 'outbound', 'audit', 'ids'], disabled)).toEqual([
      { section: 'listeners', collector: 'network', reason: 'collector network is disabled (--no-collector.network)' },
      { section: 'outbound', collector: 'network', reason: 'collector network is disabled (--no-collector.network)' },
      {
        section: 'audit',
        collector: 'audit',
        reason: 'collector audit is not enabled (--collector.disable-defaults without --collector.audit)',
      },
    ]);
  });

  it('are none when every collector runs, or when the file writes no section of a disabled one', () => {
    expect(unreadSections(['ids', 'audit', 'integrity'], new Map())).toEqual([]);
    expect(unreadSections(['processes'], new Map([['integrity', 'disabled (--no-collector.integrity)']]))).toEqual([]);
  });

  it('come from what the file writes, not from the defaults the schema fills in; the embedded default writes none', () => {
    expect(
      parsePolicy('ids:\n  sources:\n    - type: suricata\n      path: /var/log/suricata/eve.json\nlisteners: {}\n', 'p.yml').sections,
    ).toEqual(['ids', 'listeners']);
    expect(parsePolicy('', 'p.yml').sections).toEqual([]);
    expect(loadPolicy(undefined).sections).toEqual([]);
  });

  it('cover every section of the policy: each belongs to a collector', () => {
    const sections = Object.keys(parsePolicy('', 'p.yml').policy).concat('outbound', 'ids', 'audit');
    for (const section of sections) expect(sectionCollectors[section as keyof typeof sectionCollectors], section).toBeTruthy();
  });
});

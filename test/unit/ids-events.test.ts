import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { IdsTool } from '../../src/config/sections/ids.js';
import { classtypeToCategory, prioritySeverity, wazuhGroupsToCategory, wazuhLevelSeverity } from '../../src/ids/classes.js';
import { isoTime, parseIdsLine, snortTime } from '../../src/ids/events.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/ids/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '');

/** Each line of a fixture as `severity/category`, `other` for non-alert events. */
const classify = (tool: IdsTool, lines: readonly string[]) =>
  lines.map((line) => {
    const parsed = parseIdsLine(tool, line);
    return parsed.kind === 'alert'
      ? `${parsed.alert.severity}/${parsed.alert.category}`
      : parsed.kind === 'other'
        ? 'other'
        : `unparsed:${parsed.reason}`;
  });

describe("IDS alerts in each tool's own format", () => {
  it('Suricata EVE: alert records are classified by severity and classtype description, every other record is no alert', () => {
    expect(classify('suricata', fixture('suricata-eve.json'))).toEqual([
      'other', // stats
      'other', // flow
      'other', // dns
      'low/activity', // Misc activity, severity 3
      'high/policy', // Potential Corporate Privacy Violation, 1
      'medium/other', // Potentially Bad Traffic, 2
      'high/exploit', // Attempted Administrator Privilege Gain, 1, blocked
      'medium/recon', // Attempted Information Leak, 2
      'high/malware', // A Network Trojan was detected, 1
      'low/protocol', // Generic Protocol Command Decode, 3
      'other', // anomaly
      'high/policy',
      'medium/other',
      'low/other', // a local category, severity 4
      'unknown/unknown', // neither severity nor category
      'other', // fileinfo
      'other', // stats
    ]);
  });

  it('Suricata EVE: signature, gid:sid and the event time with microseconds and a +0000 offset', () => {
    const parsed = parseIdsLine('suricata', fixture('suricata-eve.json')[6]!);
    expect(parsed).toEqual({
      kind: 'alert',
      alert: {
        severity: 'high',
        category: 'exploit',
        signatureId: '1:2027865',
        signature: 'ET EXPLOIT Apache Struts RCE Attempt (CVE-2017-5638)',
        at: Date.UTC(2024, 2, 4, 10, 0, 5, 600),
      },
    });
  });

  it('Snort 3 alert_json: default fields count with severity and category unknown; priority and class classify', () => {
    expect(classify('snort', fixture('snort3-alert_json.txt'))).toEqual([
      'unknown/unknown',
      'unknown/unknown',
      'high/exploit', // priority 1, attempted-admin
      'low/activity', // priority 3, misc-activity
      'medium/recon', // priority 2, attempted-recon
      'high/malware', // trojan-activity
      'low/unknown', // priority 4, class none
      'medium/exploit', // web-application-attack, with seconds/gid/sid
    ]);
    const lines = fixture('snort3-alert_json.txt');
    const first = parseIdsLine('snort', lines[0]!);
    expect(first.kind === 'alert' && first.alert).toMatchObject({ signatureId: '1:1000001', signature: '1:1000001' });
    const last = parseIdsLine('snort', lines[7]!);
    expect(last.kind === 'alert' && last.alert).toEqual({
      severity: 'medium',
      category: 'exploit',
      signatureId: '1:1000002',
      signature: 'LOCAL SQL injection in query string',
      at: 1709546407000,
    });
  });

  it('Wazuh and OSSEC alerts.json: levels become classes, the most telling rule group the category', () => {
    expect(classify('wazuh', fixture('wazuh-alerts.json'))).toEqual([
      'low/activity', // 3, authentication_success
      'low/credential', // 5, invalid_login
      'medium/credential', // 10, authentication_failures
      'medium/integrity', // 7, syscheck (before the generic ossec group)
      'high/malware', // 12, rootcheck
      'critical/exploit', // 15, attack
      'high/vulnerability', // 13
      'medium/policy', // 7, sca
      'low/unknown', // 0, no groups
      'medium/exploit', // OSSEC: 10, attacks
      'low/activity', // OSSEC: 2, syslog
    ]);
    const ossec = parseIdsLine('wazuh', fixture('wazuh-alerts.json')[9]!);
    expect(ossec.kind === 'alert' && ossec.alert).toEqual({
      severity: 'medium',
      category: 'exploit',
      signatureId: '40111',
      signature: 'Multiple authentication failures.',
      at: 1709546409000,
    });
  });

  it("never reads another tool's events as alerts", () => {
    expect(classify('wazuh', fixture('suricata-eve.json').slice(0, 4))).toEqual(Array(4).fill('unparsed:not_an_event'));
    expect(classify('snort', fixture('wazuh-alerts.json').slice(0, 1))).toEqual(['unparsed:not_an_event']);
    expect(classify('suricata', fixture('snort3-alert_json.txt').slice(0, 1))).toEqual(['unparsed:not_an_event']);
  });
});

describe('bad input in IDS outputs', () => {
  it('a truncated line, garbage, an array and a bare value are unparsed, never thrown', () => {
    const alert = fixture('suricata-eve.json')[4]!;
    expect(
      classify('suricata', [
        alert.slice(0, 100),
        '\u0000\u0001garbage',
        '[1,2]',
        '42',
        'null',
        '{"event_type":"alert"}',
        '{"event_type":"alert","alert":"x"}',
      ]),
    ).toEqual([
      'unparsed:invalid_json',
      'unparsed:invalid_json',
      'unparsed:invalid_json',
      'unparsed:invalid_json',
      'unparsed:invalid_json',
      'unparsed:not_an_event',
      'unparsed:not_an_event',
    ]);
  });

  it('an event a dying writer left unfinished does not take the next event with it', () => {
    const [a, b] = [fixture('suricata-eve.json')[4]!, fixture('suricata-eve.json')[6]!];
    let fragments = 0;
    const parsed = parseIdsLine('suricata', a.slice(0, 150) + b, () => fragments++);
    expect(parsed.kind === 'alert' && parsed.alert.signatureId).toBe('1:2027865');
    expect(fragments).toBe(1);
    const snort = fixture('snort3-alert_json.txt');
    const glued = parseIdsLine('snort', snort[2]!.slice(0, 40) + snort[3]!);
    expect(glued.kind === 'alert' && glued.alert.signatureId).toBe('1:384');
  });

  it('odd values of severity and level are unknown, not errors', () => {
    expect([
      prioritySeverity(undefined),
      prioritySeverity(0),
      prioritySeverity(1.5),
      prioritySeverity(1),
      prioritySeverity(2),
      prioritySeverity(3),
      prioritySeverity(200),
    ]).toEqual(['unknown', 'unknown', 'unknown', 'high', 'medium', 'low', 'low']);
    expect([
      wazuhLevelSeverity(-1),
      wazuhLevelSeverity(16),
      wazuhLevelSeverity(0),
      wazuhLevelSeverity(6),
      wazuhLevelSeverity(7),
      wazuhLevelSeverity(11),
      wazuhLevelSeverity(12),
      wazuhLevelSeverity(14),
      wazuhLevelSeverity(15),
    ]).toEqual(['unknown', 'unknown', 'low', 'low', 'medium', 'medium', 'high', 'high', 'critical']);
  });

  it('classtypes by short name or description, any case; groups by the most telling one', () => {
    expect(classtypeToCategory('attempted-admin')).toBe('exploit');
    expect(classtypeToCategory('attempted administrator privilege gain')).toBe('exploit');
    expect(classtypeToCategory('Crypto Currency Mining Activity Detected')).toBe('malware');
    expect(classtypeToCategory('none')).toBe('unknown');
    expect(classtypeToCategory('my-own-classtype')).toBe('other');
    expect(wazuhGroupsToCategory(['syslog', 'sshd'])).toBe('activity');
    expect(wazuhGroupsToCategory(['web', 'accesslog', 'attack'])).toBe('exploit');
    expect(wazuhGroupsToCategory(['local'])).toBe('other');
  });

  it("reads the tools' times: ISO with any fraction and offset, Snort's year-less local time", () => {
    expect(isoTime('2024-03-04T10:00:05.600000+0000')).toBe(Date.UTC(2024, 2, 4, 10, 0, 5, 600));
    expect(isoTime('2024-03-04T11:00:05.6+01:00')).toBe(Date.UTC(2024, 2, 4, 10, 0, 5, 600));
    expect(isoTime('2024-03-04T10:00:05Z')).toBe(Date.UTC(2024, 2, 4, 10, 0, 5));
    expect(isoTime('yesterday')).toBeUndefined();
    const now = new Date(2024, 2, 4, 12, 0, 0).getTime();
    expect(snortTime('03/04-10:00:01.223344', now)).toBe(new Date(2024, 2, 4, 10, 0, 1, 223).getTime());
    // December's alerts read on the 1st of January belong to the year before.
    expect(snortTime('12/31-23:59:59.000000', new Date(2025, 0, 1, 0, 0, 5).getTime())).toBe(new Date(2024, 11, 31, 23, 59, 59).getTime());
    expect(snortTime('24/03/04-10:00:01.5', now)).toBe(new Date(2024, 2, 4, 10, 0, 1, 500).getTime());
    expect(snortTime('not a time', now)).toBeUndefined();
  });
});

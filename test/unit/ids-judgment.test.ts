import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policyError } from '../helpers/policy.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { idsFindings, type IdsSourceState } from '../../src/ids/judge.js';
import { IdsPipeline } from '../../src/ids/pipeline.js';
import { resolveIdsSources } from '../../src/ids/sources.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/ids/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const quiet = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
const source = (over: Partial<IdsSourceState> = {}): IdsSourceState => ({
  id: '/var/log/suricata/eve.json',
  tool: 'suricata',
  health: 'ok',
  reason: undefined,
  modifiedAt: 1_000_000,
  maxSilenceSeconds: 300,
  recent: quiet,
  ...over,
});

describe('counting IDS alerts', () => {
  it('counts every alert of every fixture once, by severity and category, and each line read', () => {
    let now = Date.UTC(2024, 2, 4, 10, 1);
    const pipeline = new IdsPipeline(() => now);
    pipeline.lines('eve', 'suricata', fixture('suricata-eve.json'));
    pipeline.lines('snort', 'snort', fixture('snort3-alert_json.txt'));
    pipeline.lines('wazuh', 'wazuh', fixture('wazuh-alerts.json'));
    const eve = pipeline.source('eve', 'suricata');
    expect(eve.linesRead).toBe(17);
    expect(eve.totalAlerts()).toBe(11);
    expect(
      eve
        .alertRows()
        .filter((r) => r.value > 0)
        .map((r) => `${r.severity}/${r.category}=${r.value}`),
    ).toEqual([
      'high/exploit=1',
      'high/malware=1',
      'high/policy=2',
      'medium/recon=1',
      'medium/other=2',
      'low/protocol=1',
      'low/activity=1',
      'low/other=1',
      'unknown/unknown=1',
    ]);
    expect(pipeline.source('snort', 'snort').totalAlerts()).toBe(8);
    expect(pipeline.source('wazuh', 'wazuh').totalAlerts()).toBe(11);
    // The newest event time wins, whatever order the lines came in.
    expect(eve.lastAlertAt).toBe(Date.UTC(2024, 2, 4, 10, 0, 13, 400));
    expect(pipeline.recent.lastFiveMinutes('wazuh')).toEqual({ critical: 1, high: 2, medium: 4, low: 4, unknown: 0 });
    now += 6 * 60_000;
    expect(pipeline.recent.lastFiveMinutes('wazuh')).toEqual(quiet);
  });

  it('keeps the signatures of the last 15 minutes for the opt-in top-N, most alerts first', () => {
    let now = 0;
    const pipeline = new IdsPipeline(() => now);
    pipeline.recent.perSignatureCap = 32;
    pipeline.lines('eve', 'suricata', fixture('suricata-eve.json'));
    pipeline.lines('eve', 'suricata', fixture('suricata-eve.json').slice(4, 5));
    expect(pipeline.recent.topSignatures(2)).toEqual([
      { tool: 'suricata', signatureId: '1:2019401', signature: 'ET POLICY Vulnerable Java Version 1.8.x Detected', alerts: 2 },
      { tool: 'suricata', signatureId: '1:2001219', signature: 'ET SCAN Potential SSH Scan', alerts: 1 },
    ]);
    now += 16 * 60_000;
    expect(pipeline.recent.topSignatures(2)).toEqual([]);
  });

  it('an event dated far in the future is timed when it was read', () => {
    const now = Date.UTC(2024, 0, 1);
    const pipeline = new IdsPipeline(() => now);
    pipeline.lines('w', 'wazuh', ['{"timestamp":"2099-01-01T00:00:00.000+0000","rule":{"level":12,"id":"1","groups":["attack"]}}']);
    expect(pipeline.source('w', 'wazuh').lastAlertAt).toBe(now);
  });
});

describe('IDS findings', () => {
  it('a readable, recently written source without alerts has no finding', () => {
    expect(idsFindings([source()], 1_000_000 + 299_000)).toEqual([]);
  });

  it('a source unwritten for longer than its max_silence is silent; with max_silence 0 it never is', () => {
    expect(idsFindings([source()], 1_000_000 + 301_000)).toMatchObject([
      { kind: 'source_silent', severity: 'warning', subject: { source: '/var/log/suricata/eve.json', tool: 'suricata' } },
    ]);
    expect(idsFindings([source({ maxSilenceSeconds: 0 })], 1e12)).toEqual([]);
  });

  it('a missing output is unavailable (and not also silent)', () => {
    expect(idsFindings([source({ health: 'missing', reason: 'ENOENT', modifiedAt: undefined })], 1e12)).toEqual([
      {
        collector: 'ids',
        kind: 'source_unavailable',
        severity: 'warning',
        subject: { source: '/var/log/suricata/eve.json', tool: 'suricata' },
        message: 'suricata output /var/log/suricata/eve.json is missing (ENOENT): its alerts are not counted',
      },
    ]);
  });

  it('recent alerts are findings by severity: critical is critical, high a warning, the rest info', () => {
    const findings = idsFindings([source({ recent: { critical: 1, high: 2, medium: 0, low: 7, unknown: 0 } })], 1_000_000);
    expect(findings.map((f) => [f.subject.alert_severity, f.severity, f.message])).toEqual([
      ['critical', 'critical', '1 critical-severity suricata alert from /var/log/suricata/eve.json in the last 5 minutes'],
      ['high', 'warning', '2 high-severity suricata alerts from /var/log/suricata/eve.json in the last 5 minutes'],
      ['low', 'info', '7 low-severity suricata alerts from /var/log/suricata/eve.json in the last 5 minutes'],
    ]);
  });
});

describe('the ids policy section', () => {
  const load = (yaml: string) => parsePolicy(yaml, 'p.yml').policy;
  const error = policyError;

  it('is absent by default, and sources get per-tool silence limits under the root path', () => {
    expect(load('').ids).toBeUndefined();
    const policy = load(
      'ids:\n  sources:\n    - {type: suricata, path: /var/log/suricata/eve.json}\n    - {type: wazuh, path: /var/ossec/logs/alerts/alerts.json, max_silence: 1d}\n    - {type: snort, path: /var/log/snort/alert_json.txt, max_silence: 0}\n',
    );
    expect(resolveIdsSources(policy.ids, '/host')).toEqual([
      {
        id: '/var/log/suricata/eve.json',
        tool: 'suricata',
        path: '/host/var/log/suricata/eve.json',
        startAt: 'end',
        maxSilenceSeconds: 300,
      },
      {
        id: '/var/ossec/logs/alerts/alerts.json',
        tool: 'wazuh',
        path: '/host/var/ossec/logs/alerts/alerts.json',
        startAt: 'end',
        maxSilenceSeconds: 86400,
      },
      {
        id: '/var/log/snort/alert_json.txt',
        tool: 'snort',
        path: '/host/var/log/snort/alert_json.txt',
        startAt: 'end',
        maxSilenceSeconds: 0,
      },
    ]);
    expect(policy.ids?.top_signatures).toBe(0);
    expect(policy.ids?.max_event_bytes).toBe(1024 * 1024);
  });

  it('rejects an unknown tool, a relative path, a file listed twice and an empty list, with the line', () => {
    expect(error('ids:\n  sources:\n    - {type: zeek, path: /x}\n')).toMatch(/^p\.yml:3: ids\.sources\[0\]\.type: /);
    expect(error('ids:\n  sources:\n    - {type: snort, path: alert.txt}\n')).toMatch(/^p\.yml:3: ids\.sources\[0\]\.path: .*absolute/);
    expect(error('ids:\n  sources:\n    - {type: snort, path: /a}\n    - {type: suricata, path: /a}\n')).toMatch(
      /ids\.sources\[1\]\.path: \/a is listed twice/,
    );
    expect(error('ids:\n  sources: []\n')).toMatch(/ids\.sources/);
    expect(error('ids:\n  sources:\n    - {type: snort, path: /a, max_silence: 5 minutes}\n')).toMatch(/max_silence/);
  });
});

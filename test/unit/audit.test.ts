import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policyError } from '../helpers/policy.js';
import { auditBaselineOf, judgeAudit, learnAudit } from '../../src/audit/judge.js';
import { judgePidFile, lynisPidFiles } from '../../src/audit/lynis-pid-file.js';
import { parseLynisReport, type LynisReport } from '../../src/audit/lynis-report.js';
import type { ReportState } from '../../src/audit/lynis-report.js';
import { parsePolicy } from '../../src/config/load-policy.js';

const recorded = readFileSync(new URL('../fixtures/audit/lynis-report.dat', import.meta.url), 'utf8');
const policy = (yaml = '') => parsePolicy(`audit:\n  lynis_report: /var/log/lynis-report.dat\n${yaml}`, 'p.yml').policy.audit!;
const report = (over: Partial<LynisReport> = {}): LynisReport => ({
  lynisVersion: '3.0.8',
  hardeningIndex: 60,
  warnings: [
    { test: 'LOGG-2138', text: 'klogd is not running, which could lead to missing kernel messages in log files' },
    { test: 'FINT-4316', text: 'No AIDE database was found, needed for AIDE functionality' },
  ],
  suggestions: 44,
  startedAt: new Date(2026, 10, 26, 18, 24, 1).getTime(),
  endedAt: new Date(2026, 10, 26, 18, 24, 37).getTime(),
  strangeLines: 0,
  ...over,
});
const held = (r: LynisReport = report()): ReportState => ({ held: r, current: 'complete', reason: undefined });
const missing: ReportState = { held: undefined, current: 'missing', reason: 'ENOENT' };
const soon = new Date(2026, 10, 26, 19).getTime();

describe('reading a Lynis report', () => {
  it('reads the recorded report of a real run: index, warnings, suggestions, times', () => {
    const parsed = parseLynisReport(recorded);
    expect(parsed.status).toBe('complete');
    expect(parsed.status === 'complete' && parsed.report).toEqual(report());
  });

  it('a report cut anywhere before its end is incomplete, never complete with wrong numbers, never an error', () => {
    const end = recorded.indexOf('hardening_index=');
    for (let cut = 0; cut < end; cut += 997) {
      const parsed = parseLynisReport(recorded.slice(0, cut));
      expect(['incomplete', 'invalid']).toContain(parsed.status);
    }
    // Cut inside "hardening_index=60": the last line has no newline yet and is ignored.
    expect(parseLynisReport(recorded.slice(0, end + 'hardening_index=6'.length)).status).toBe('incomplete');
    expect(parseLynisReport(recorded.slice(0, recorded.indexOf('\n', end) + 1)).status).toBe('complete');
  });

  it('empty files, binary junk, other files and impossible indexes are invalid, with the reason', () => {
    expect(parseLynisReport('')).toEqual({ status: 'invalid', reason: 'empty file' });
    expect(parseLynisReport(readFileSync(new URL('../fixtures/auth/corpus-rfc3164.log', import.meta.url), 'utf8')).status).toBe('invalid');
    expect(parseLynisReport('\u0000\u0001\u0002\n\u00ff\u00fe\n')).toMatchObject({ status: 'invalid' });
    expect(parseLynisReport('report_datetime_end=2026-01-01 00:00:00\nhardening_index=250\n')).toEqual({
      status: 'invalid',
      reason: 'hardening_index=250 is not a number from 0 to 100',
    });
  });
});

describe('judging a Lynis report', () => {
  it('a report the baseline accepted, young enough, has no finding', () => {
    const baseline = auditBaselineOf(learnAudit(report()));
    expect(judgeAudit(held(), baseline, policy(), soon)).toEqual([]);
  });

  it('the baseline holds the index and every warning by test ID', () => {
    expect(learnAudit(report())).toEqual({
      hardening_index: 60,
      'warning:LOGG-2138': 'klogd is not running, which could lead to missing kernel messages in log files',
      'warning:FINT-4316': 'No AIDE database was found, needed for AIDE functionality',
    });
    expect(learnAudit(undefined)).toEqual({});
    expect(auditBaselineOf({ hardening_index: 'sixty', 'warning:X-1': 'x' })).toEqual({
      hardeningIndex: undefined,
      warnings: new Set(['X-1']),
    });
  });

  it('a lower hardening index and a new warning are findings; accepted warnings are not', () => {
    const baseline = auditBaselineOf(learnAudit(report()));
    const worse = report({
      hardeningIndex: 55,
      warnings: [
        ...report().warnings,
        { test: 'AUTH-9262', text: 'No PAM module for password strength' },
        { test: 'SSH-7408', text: 'PermitRootLogin yes' },
      ],
    });
    expect(judgeAudit(held(worse), baseline, policy(), soon)).toEqual([
      {
        collector: 'audit',
        kind: 'hardening_index_dropped',
        severity: 'warning',
        subject: { report: '/var/log/lynis-report.dat' },
        message: 'Lynis hardening index 55, down from 60 in the baseline',
      },
      {
        collector: 'audit',
        kind: 'new_warning',
        severity: 'warning',
        subject: { test: 'AUTH-9262' },
        message: 'Lynis warning AUTH-9262: No PAM module for password strength',
      },
      {
        collector: 'audit',
        kind: 'new_warning',
        severity: 'warning',
        subject: { test: 'SSH-7408' },
        message: 'Lynis warning SSH-7408: PermitRootLogin yes',
      },
    ]);
    expect(judgeAudit(held(worse), baseline, policy('  accept_warnings: [AUTH-9262, SSH-7408]\n'), soon).map((f) => f.kind)).toEqual([
      'hardening_index_dropped',
    ]);
  });

  it('without a baseline every warning is new and the index is not judged', () => {
    expect(
      judgeAudit(held(report({ hardeningIndex: 10 })), undefined, policy(), soon).map((f) => `${f.kind} ${f.subject.test ?? ''}`),
    ).toEqual(['new_warning LOGG-2138', 'new_warning FINT-4316']);
  });

  it('a report older than max_report_age is stale', () => {
    const baseline = auditBaselineOf(learnAudit(report()));
    const nineDays = report().endedAt! + 9 * 86_400_000;
    expect(judgeAudit(held(), baseline, policy(), nineDays).map((f) => f.kind)).toEqual(['report_stale']);
    expect(judgeAudit(held(), baseline, policy('  max_report_age: 10d\n'), nineDays)).toEqual([]);
  });

  it('no complete report is a warning, only info while the first one is being written', () => {
    expect(judgeAudit(missing, undefined, policy(), soon)).toEqual([
      {
        collector: 'audit',
        kind: 'report_unavailable',
        severity: 'warning',
        subject: { report: '/var/log/lynis-report.dat' },
        message: 'no complete Lynis report at /var/log/lynis-report.dat: missing (ENOENT)',
      },
    ]);
    expect(judgeAudit({ held: undefined, current: 'incomplete', reason: undefined }, undefined, policy(), soon)[0]?.severity).toBe('info');
  });
});

describe('a Lynis PID file found before a run', () => {
  const lynis = { state: 'S', argv: ['/bin/sh', '/usr/sbin/lynis', 'audit', 'system', '--cronjob'] };

  it('is held by a live Lynis only when its PID runs the lynis script and has not exited', () => {
    expect(judgePidFile('4242\n', lynis)).toEqual({ kind: 'live_lynis', pid: 4242 });
    expect(judgePidFile('4242', { state: 'T', argv: ['/usr/local/bin/lynis', 'audit', 'system'] })).toEqual({
      kind: 'live_lynis',
      pid: 4242,
    });
  });

  it('is stale when its run is gone: no such process, a zombie, a PID reused by another program, no PID at all', () => {
    expect(judgePidFile('4242\n', undefined)).toEqual({ kind: 'stale', pid: 4242, reason: 'no such process' });
    expect(judgePidFile('4242\n', { ...lynis, state: 'Z' })).toEqual({
      kind: 'stale',
      pid: 4242,
      reason: 'the process is a zombie: it has exited',
    });
    expect(judgePidFile('4242\n', { state: 'S', argv: ['/usr/sbin/nginx', '-g', 'daemon off;'] })).toEqual({
      kind: 'stale',
      pid: 4242,
      reason: 'the PID now belongs to another program (nginx)',
    });
    expect(judgePidFile('4242\n', { state: 'S', argv: ['/bin/sh', '/usr/sbin/not-lynis'] }).kind).toBe('stale');
    expect(judgePidFile('', lynis)).toEqual({ kind: 'stale', pid: undefined, reason: 'no PID in it' });
    expect(judgePidFile('lynis\n', lynis)).toEqual({ kind: 'stale', pid: undefined, reason: 'no PID in it' });
  });

  it('is looked for where Lynis looks: the home directory, the working directory and /var/run', () => {
    expect(lynisPidFiles('/root', '/')).toEqual(['/root/lynis.pid', '/lynis.pid', '/var/run/lynis.pid']);
    expect(lynisPidFiles('/', '/')).toEqual(['/lynis.pid', '/var/run/lynis.pid']);
  });
});

describe('the audit policy section', () => {
  const error = policyError;

  it('is absent by default; with it, defaults apply and a run needs a valid schedule', () => {
    expect(parsePolicy('', 'p.yml').policy.audit).toBeUndefined();
    expect(policy()).toEqual({ lynis_report: '/var/log/lynis-report.dat', max_report_age: 8 * 86400, accept_warnings: [], run: undefined });
    expect(policy('  run:\n    schedule: "30 3 * * *"\n').run).toEqual({
      schedule: '30 3 * * *',
      log_file: '/var/log/lynis.log',
      timeout: 3600,
    });
    expect(error('audit:\n  lynis_report: /r\n  run:\n    schedule: "61 * * * *"\n')).toMatch(
      /^p\.yml:4: audit\.run\.schedule: not a cron expression/,
    );
    expect(error('audit:\n  lynis_report: r.dat\n')).toMatch(/audit\.lynis_report: .*absolute/);
    expect(error('audit:\n  lynis_report: /r\n  accept_warnings: ["no spaces please"]\n')).toMatch(/audit\.accept_warnings\[0\]/);
    expect(error('audit:\n  lynis_report: /r\n  lynis_reports: /r\n')).toMatch(/^p\.yml:3: audit\.lynis_reports: unknown key/);
    expect(policy('  run:\n    schedule: "30 3 * * *"\n    test_groups: [ssh, time]\n').run?.test_groups).toEqual(['ssh', 'time']);
    expect(error('audit:\n  lynis_report: /r\n  run:\n    schedule: "30 3 * * *"\n    test_groups: ["ssh time"]\n')).toMatch(
      /audit\.run\.test_groups\[0\]: a Lynis test group/,
    );
  });
});

describe('the ids and audit sections of examples/policy.yml', () => {
  it('load, the commented-out Lynis run included', () => {
    const text = readFileSync(new URL('../../examples/policy.yml', import.meta.url), 'utf8');
    const uncommented = text
      .replace(/^# ((?:outbound|ids|audit):|  .*)$/gm, (_line, rest: string) => rest)
      .replace(/^ {2}# (run:.*|exec_events:.*|  .*)$/gm, (_line, rest: string) => `  ${rest}`);
    const { policy: p } = parsePolicy(uncommented, 'examples/policy.yml');
    expect(p.processes.exec_events).toEqual({
      source: 'auditd',
      path: '/var/log/audit/audit.log',
      rule_key: 'hostguard_exec',
      hold: 900,
      start_at: 'end',
    });
    expect(p.ids?.sources.map((s) => `${s.type} ${s.path} ${s.max_silence ?? 'default'}`)).toEqual([
      'suricata /var/log/suricata/eve.json default',
      'snort /var/log/snort/alert_json.txt 0',
      'wazuh /var/ossec/logs/alerts/alerts.json 86400',
    ]);
    expect(p.audit).toEqual({
      lynis_report: '/var/log/lynis-report.dat',
      max_report_age: 8 * 86400,
      accept_warnings: [],
      run: {
        schedule: '30 3 * * *',
        lynis: '/usr/sbin/lynis',
        profile: '/etc/lynis/custom.prf',
        test_groups: ['ssh', 'authentication'],
        log_file: '/var/log/lynis.log',
        timeout: 3600,
      },
    });
  });
});

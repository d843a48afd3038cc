import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { parseExposition, sampleValue, type Sample } from '../helpers/exposition.js';

const recorded = readFileSync(new URL('../fixtures/audit/lynis-report.dat', import.meta.url), 'utf8');
const scrape = async (exporter: RunningExporter): Promise<Sample[]> =>
  parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
const findings = (samples: Sample[], kind: string) => sampleValue(samples, 'hostguard_findings', { collector: 'audit', kind });

/** The recorded report, as a later run that found the host weaker: a lower index and one more warning. */
function weakerReport(): string {
  return recorded
    .replace('hardening_index=60', 'hardening_index=52')
    .replace('report_datetime_end=', 'warning[]=SSH-7408|PermitRootLogin is set to yes|-|-|\nreport_datetime_end=')
    .replace(/report_datetime_end=.*/, `report_datetime_end=${localStamp(new Date())}`);
}

function localStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function setup(report: string | undefined, extra = ''): { dir: string; path: string; args: string[] } {
  const dir = tempDir();
  const path = join(dir, 'lynis-report.dat');
  if (report !== undefined) writeFileSync(path, report);
  const policy = join(dir, 'policy.yml');
  // The recorded report is from 2026-11-26: allow it to be old here; staleness has its own test.
  writeFileSync(policy, `audit:\n  lynis_report: ${path}\n  max_report_age: 3650d\n${extra}`);
  return {
    dir,
    path,
    args: ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.audit'],
  };
}

describe('Lynis reports as metrics', () => {
  it('a host whose report the baseline accepted has no findings, and its numbers are exported', async () => {
    const { args } = setup(recorded);
    const exporter = await startExporter(args);
    const samples = await scrape(exporter);
    expect(sampleValue(samples, 'hostguard_audit_hardening_index')).toBe(60);
    expect(sampleValue(samples, 'hostguard_audit_baseline_hardening_index')).toBe(60);
    expect(sampleValue(samples, 'hostguard_audit_warnings')).toBe(2);
    expect(sampleValue(samples, 'hostguard_audit_suggestions')).toBe(44);
    expect(sampleValue(samples, 'hostguard_audit_report_timestamp_seconds')).toBe(new Date(2026, 10, 26, 18, 24, 37).getTime() / 1000);
    expect(sampleValue(samples, 'hostguard_audit_report_max_age_seconds')).toBe(3650 * 86400);
    expect(samples.filter((s) => s.name === 'hostguard_findings' && s.labels.collector === 'audit' && s.value > 0)).toEqual([]);
    expect(samples.filter((s) => s.name === 'hostguard_audit_new_warning')).toEqual([]);
  });

  it('a half-written report keeps the last complete one; a weaker complete one is judged against the baseline', async () => {
    const { path, args } = setup(recorded);
    const exporter = await startExporter(args);
    await scrape(exporter);
    // Lynis rewrites the file as it runs: halfway, there is no end and no index yet.
    writeFileSync(path, recorded.slice(0, recorded.indexOf('report_datetime_end=')) + 'warning[]=SSH-74');
    let samples = await scrape(exporter);
    expect(sampleValue(samples, 'hostguard_audit_hardening_index')).toBe(60);
    expect(sampleValue(samples, 'hostguard_audit_report_reads_total', { result: 'incomplete' })).toBe(1);
    expect(samples.filter((s) => s.name === 'hostguard_findings' && s.labels.collector === 'audit' && s.value > 0)).toEqual([]);

    writeFileSync(path, weakerReport());
    samples = await scrape(exporter);
    expect(sampleValue(samples, 'hostguard_audit_hardening_index')).toBe(52);
    expect(sampleValue(samples, 'hostguard_audit_baseline_hardening_index')).toBe(60);
    expect(sampleValue(samples, 'hostguard_audit_warnings')).toBe(3);
    expect(sampleValue(samples, 'hostguard_audit_new_warning', { test: 'SSH-7408' })).toBe(1);
    expect(findings(samples, 'hardening_index_dropped')).toBe(1);
    expect(findings(samples, 'new_warning')).toBe(1);
    expect(sampleValue(samples, 'hostguard_audit_report_reads_total', { result: 'complete' })).toBe(2);

    // Accepting the host as it is now ends both findings.
    expect(runCli(['baseline', 'update', ...args]).code).toBe(0);
    samples = await scrape(exporter);
    expect(samples.filter((s) => s.name === 'hostguard_findings' && s.labels.collector === 'audit' && s.value > 0)).toEqual([]);
  });

  it('a missing, garbage or stale report is reported, never fatal, in serve and in check', async () => {
    const { path, args } = setup(undefined);
    const exporter = await startExporter(args);
    let samples = await scrape(exporter);
    expect(findings(samples, 'report_unavailable')).toBe(1);
    expect(sampleValue(samples, 'hostguard_audit_report_timestamp_seconds')).toBe(0);
    expect(sampleValue(samples, 'hostguard_audit_hardening_index')).toBeUndefined();
    writeFileSync(path, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)));
    samples = await scrape(exporter);
    expect(findings(samples, 'report_unavailable')).toBe(1);
    expect(sampleValue(samples, 'hostguard_audit_report_reads_total', { result: 'invalid' })).toBe(1);
    expect(sampleValue(samples, 'hostguard_audit_report_reads_total', { result: 'missing' })).toBe(1);

    // A complete report finished nine days ago (Lynis stopped running) with max_report_age 8d.
    const old = new Date(Date.now() - 9 * 86_400_000);
    writeFileSync(`${path}.new`, recorded.replace(/report_datetime_end=.*/, `report_datetime_end=${localStamp(old)}`));
    renameSync(`${path}.new`, path);
    const stale = setup(undefined).args;
    const policyFile = stale[stale.indexOf('--config.file') + 1]!;
    writeFileSync(policyFile, `audit:\n  lynis_report: ${path}\n`);
    const check = runCli(['check', '--format', 'json', ...stale]);
    const kinds = (JSON.parse(check.stdout) as { findings: { kind: string }[] }).findings.map((f) => f.kind);
    expect(kinds).toContain('report_stale');
    expect(check.code).toBe(1);
    // The serving exporter (max age 10 years) takes the complete report, and keeps it when the file goes.
    expect(sampleValue(await scrape(exporter), 'hostguard_audit_hardening_index')).toBe(60);
    unlinkSync(path);
    samples = await scrape(exporter);
    expect(sampleValue(samples, 'hostguard_audit_hardening_index')).toBe(60);
    expect(findings(samples, 'report_unavailable')).toBe(0);
    expect(sampleValue(samples, 'hostguard_audit_report_reads_total', { result: 'missing' })).toBe(2);
  });
});

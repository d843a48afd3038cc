import type { Counter } from 'prom-client';
import type { Policy } from '../config/policy-schema.js';
import type { Finding } from '../findings/finding.js';
import { ChangeWindows, LastWriters, fimRuleKey } from '../integrity/audit-writers.js';
import { withWriters } from '../integrity/judge-writers.js';
import type { AuditLogReader } from '../kaudit/log-reader.js';
import { CounterSync } from '../metrics/counter-sync.js';
import { integrityMetricSpecs as specs } from '../metrics/integrity.js';
import { registerCounter } from '../metrics/spec.js';
import { sharedAuditLog, type SharedAuditLog } from './audit-log-shared.js';
import type { CollectorEnv } from './collector.js';

/** How long a collection waits for the audit log to be read to its end (as the exec source). */
const catchUpMs = 2000;

/**
 * Who changed a watched file (who-data), for the integrity collector: the audit events of the
 * watch rules (key hostguard_fim) read from the audit log that processes.exec_events names, the
 * same reader as the exec source's (audit-log-shared.ts). Without exec_events, or in `check`
 * (which follows no log), nothing is read and every file change says "writer unknown".
 */
export class WhoData {
  private readonly writers = new LastWriters();
  private readonly windows = new ChangeWindows();
  private readonly auditLog: SharedAuditLog;
  private following: { readonly reader: AuditLogReader; readonly unsubscribe: () => void } | undefined;
  private readonly counters = new CounterSync();
  private readonly m: { writes: Counter; evictions: Counter };
  private annotated: { judged: readonly Finding[]; version: number; findings: readonly Finding[] } | undefined;

  constructor(env: CollectorEnv) {
    this.auditLog = sharedAuditLog(env);
    this.m = { writes: registerCounter(env.registry, specs.writerWrites), evictions: registerCounter(env.registry, specs.writerEvictions) };
    this.m.writes.inc(0);
    this.m.evictions.inc(0);
  }

  /** `serve`, at start and after each reload: follow the log processes.exec_events names, or stop. */
  reconcile(policy: Policy): void {
    const wanted = policy.processes.exec_events;
    if (this.following && this.following.reader.path !== wanted?.path) void this.release({ savePosition: true });
    if (!wanted || this.following) return;
    const reader = this.auditLog.use('integrity', wanted);
    const unsubscribe = reader.subscribe(fimRuleKey, (event) => this.writers.recordEvent(event));
    this.following = { reader, unsubscribe };
  }

  /** Read the log to its end, so a write just made names its writer in this collection. */
  async catchUp(): Promise<void> {
    await this.following?.reader.catchUp(Date.now() + catchUpMs);
    this.counters.sync(this.m.writes, {}, this.writers.counts.writes);
    this.counters.sync(this.m.evictions, {}, this.writers.counts.evictions);
  }

  /** A new judgment of an observation that started at `startedMs`: its changed paths open their windows. */
  judged(findings: readonly Finding[], startedMs: number): void {
    const paths = findings.flatMap((f) => (typeof f.subject['path'] === 'string' ? [f.subject['path']] : []));
    this.windows.judged(paths, startedMs);
  }

  /** The judgment's findings with their writers: the same array while neither changed. */
  annotate(judged: readonly Finding[]): readonly Finding[] {
    // A reload that drops exec_events makes every writer unknown: a version of its own.
    const source = this.following ? this.writers : undefined;
    const version = source ? source.version : -1;
    if (this.annotated?.judged === judged && this.annotated.version === version) return this.annotated.findings;
    const findings = withWriters(judged, (path) => source?.writerOf(path, this.windows.sinceOf(path)));
    this.annotated = { judged, version, findings };
    return findings;
  }

  /** Every event read so far is recorded: the shared log's position may be saved. */
  checkpoint(): void {
    if (this.following) this.auditLog.checkpoint('integrity', this.following.reader.path);
  }

  stop(): Promise<void> {
    return this.release();
  }

  private async release(options?: { savePosition?: boolean }): Promise<void> {
    const following = this.following;
    this.following = undefined;
    if (!following) return;
    following.unsubscribe();
    await this.auditLog.release('integrity', following.reader.path, options);
  }
}

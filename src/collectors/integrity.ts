import type { BaselineEntries } from '../baseline/baseline.js';
import {
  baselineFileEntrySchema,
  isWellFormedEntry,
  fastPathKey,
  fileTypes,
  fromBaselineEntry,
  toBaselineEntry,
  type BaselineFileEntry,
  type FileState,
} from '../integrity/file-state.js';
import { DpkgReader } from '../integrity/dpkg.js';
import { FullRehashRecord } from '../integrity/full-rehash-record.js';
import { kindNames } from '../findings/kinds.js';
import { attributeOf, judgeIntegrity, type BaselineFiles, type Judgment } from '../integrity/judge.js';
import { integrityKinds } from '../integrity/kinds.js';
import { progressLine, type ProgressLine } from '../integrity/progress.js';
import { scan, scanProblems, type ImageMemo, type KnownHash, type Observation } from '../integrity/scan.js';
import type { Logger } from '../log/logger.js';
import type { StuckReads } from '../procfs/stuck-reads.js';
import type { IsolatedFs } from '../isolated/isolated-fs.js';
import { integrityMetricSpecs as specs, packageActivitySources, runningResults } from '../metrics/integrity.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import { scheduleIntervalSeconds, scheduleWork, type Schedule } from '../scheduler/schedule.js';
import type { Collector, CollectorContext, CollectorDefinition, CollectorEnv, CollectorRun } from './collector.js';
import { collectorCatalog } from './catalog.js';
// Real-time watch, account-dependent paths and who-data: kept apart in these modules.
import { effectiveWatchedPaths } from '../integrity/effective-paths.js';
import { mergeRescan } from '../integrity/rescan.js';
import { HashCache } from '../integrity/hash-cache.js';
import { PersistentDpkgReader } from '../integrity/dpkg-cache.js';
import { join } from 'node:path';
import { compileWatchScope } from '../integrity/watch-scope.js';
import { RealtimeWatch, WatchMetrics } from './integrity-realtime.js';
import { isPrivilegedKey } from '../integrity/privileged-record.js';
import { isInScope } from '../integrity/watch-scope.js';
import type { Finding } from '../findings/finding.js';
import { PrivilegedFilesSearch } from './integrity-privileged.js';
import { PackageChanges } from './integrity-packages.js';
import { WhoData } from './integrity-writers.js';

const name = collectorCatalog.integrity.name;

/** The verified baseline's integrity section: validated once, converted entry by entry on demand. */
class TrustedBaseline implements BaselineFiles {
  private readonly invalidPaths = new Set<string>();
  readonly firstProblem: { path: string; problem: string } | undefined;

  constructor(private readonly section: BaselineEntries) {
    let first: { path: string; problem: string } | undefined;
    for (const [path, entry] of Object.entries(section)) {
      if (isPrivilegedKey(path)) continue; // the privileged-file search's entries (privileged-record.ts)
      if (isWellFormedEntry(entry)) continue;
      const parsed = baselineFileEntrySchema.safeParse(entry);
      if (parsed.success) continue;
      this.invalidPaths.add(path);
      first ??= { path, problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    }
    this.firstProblem = first;
  }

  get invalid(): number {
    return this.invalidPaths.size;
  }

  get(path: string): FileState | undefined {
    const entry = Object.hasOwn(this.section, path) ? this.section[path] : undefined;
    return entry === undefined || this.invalidPaths.has(path) ? undefined : fromBaselineEntry(entry as BaselineFileEntry);
  }

  *keys(): Iterable<string> {
    for (const path of Object.keys(this.section)) if (!this.invalidPaths.has(path) && !isPrivilegedKey(path)) yield path;
  }
}

/**
 * File and binary integrity: scans on a schedule (and once at start) compare the watched files,
 * the running executables and the package database with the baseline. The scrape judges the last
 * scan's observation against the current baseline; it never reads a file.
 */
class IntegrityCollector implements Collector {
  readonly name = name;
  readonly findingKinds = kindNames(integrityKinds);
  private readonly log: Logger;
  private readonly metrics;
  private images: ImageMemo = new Map();
  private latest: Observation | undefined;
  private latestPolicyKey = '';
  private judged: { observation: Observation; baseline: TrustedBaseline | undefined; judgment: Judgment } | undefined;
  private readonly baselines = new WeakMap<BaselineEntries, TrustedBaseline>();
  private schedule: Schedule | undefined;
  /** The schedule whose interval hostguard_integrity_schedule_interval_seconds shows. */
  private intervalFor = '';
  /** Where the scans' calls on the watched files are made: helper processes, shared with the other collectors. */
  private readonly fs: IsolatedFs;
  private readonly stuck: StuckReads;
  /**
   * The scan in progress, which the next one waits for: scans never overlap. A first-start learn
   * that passed --baseline.timeout keeps scanning while the exporter starts; the scan at start then
   * waits for it instead of hashing the same tree beside it.
   */
  private scanning: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();
  private readonly fullRehash: FullRehashRecord;
  private lastFullAt: number | undefined;
  private lastBaselineState = '';
  private dpkg: DpkgReader | undefined;
  // --- real-time watch (integrity-realtime.ts) ---
  private realtime: RealtimeWatch | undefined;
  private context: (() => CollectorContext) | undefined;
  private readonly watchMetrics: WatchMetrics;
  /** The watched paths of the last scan, accounts expanded: a rescan that changes them scans everything. */
  private latestPaths: readonly string[] = [];
  /**
   * Who wrote a changed file, from the audit log processes.exec_events names (who-data,
   * integrity-writers.ts); without it, file changes say "writer unknown".
   */
  private readonly whoData: WhoData;
  /** Hashes of the last scan on disk, for the first scan of a process (`check`): see hash-cache.ts. */
  private readonly hashCache: HashCache;
  private readonly dpkgCacheFile: string;
  /** The search of the local file systems for setuid, setgid and capability files (integrity-privileged.ts). */
  private readonly privileged: PrivilegedFilesSearch;
  /** The findings the mismatch series show: the scan's and the search's. */
  private shownFindings: { scan: readonly Finding[]; privileged: readonly Finding[] } | undefined;
  // ---
  private readonly packageChanges: PackageChanges;

  constructor(env: CollectorEnv) {
    this.log = env.log;
    this.fs = env.hostReads.isolated;
    this.stuck = env.hostReads.stuck;
    this.packageChanges = new PackageChanges(env, env.log);
    this.whoData = new WhoData(env);
    this.watchMetrics = new WatchMetrics(env);
    this.hashCache = new HashCache(env.paths.stateDir);
    this.dpkgCacheFile = join(env.paths.stateDir, 'integrity-dpkg-checksums.json');
    this.privileged = new PrivilegedFilesSearch(env, (rootfs) => this.dpkgReader(rootfs), env.log, this.fs);
    this.fullRehash = new FullRehashRecord(env.paths.stateDir);
    this.lastFullAt = this.fullRehash.read();
    const r = env.registry;
    this.metrics = {
      watchedFiles: registerGauge(r, specs.watchedFiles),
      mismatch: env.cappedSeries(specs.mismatch),
      lastScanStart: registerGauge(r, specs.lastScanStart),
      lastScanEnd: registerGauge(r, specs.lastScanEnd),
      scheduleInterval: registerGauge(r, specs.scheduleInterval),
      lastScanDuration: registerGauge(r, specs.lastScanDuration),
      lastScanHashedFiles: registerGauge(r, specs.lastScanHashedFiles),
      lastScanHashedBytes: registerGauge(r, specs.lastScanHashedBytes),
      lastFullRehash: registerGauge(r, specs.lastFullRehash),
      scans: registerCounter(r, specs.scans),
      hashedBytes: registerCounter(r, specs.hashedBytes),
      scanProblems: registerGauge(r, specs.scanProblems),
      runningExecutables: registerGauge(r, specs.runningExecutables),
      baselineInvalidEntries: registerGauge(r, specs.baselineInvalidEntries),
      packageDatabasePresent: registerGauge(r, specs.packageDatabasePresent),
      packageVerifiedFiles: registerGauge(r, specs.packageVerifiedFiles),
      packageMismatchedFiles: registerGauge(r, specs.packageMismatchedFiles),
      packageLastActivity: registerGauge(r, specs.packageLastActivity),
    };
    for (const mode of ['fast', 'full']) this.metrics.scans.inc({ mode }, 0);
    this.metrics.hashedBytes.inc(0);
  }

  async collect(ctx: CollectorContext): Promise<CollectorRun> {
    if (ctx.policy.integrity.schedule !== this.intervalFor) {
      this.intervalFor = ctx.policy.integrity.schedule;
      this.metrics.scheduleInterval.set(scheduleIntervalSeconds(this.intervalFor));
    }
    // Without background scans (`check`), this collection is the scan.
    if (!this.schedule) {
      await this.runScan(ctx, 'due');
      await this.privileged.ensureSearched(ctx);
    }
    const baseline = this.trustedBaseline(ctx);
    this.sayWhatIsJudged(ctx);
    // Every write read is recorded as it is read: the shared audit log's position may then be saved.
    await this.whoData.catchUp();
    this.whoData.checkpoint();
    const observation = this.latest;
    if (!observation) {
      this.metrics.baselineInvalidEntries.set(baseline?.invalid ?? 0);
      return { findings: [] };
    }
    const privileged = this.privileged.findings(ctx, ctx.baseline?.[name], (path) => isInScope(observation.scope, path), observation.scope);
    if (
      this.judged?.observation !== observation ||
      this.judged.baseline !== baseline ||
      this.packageChanges.graceEnded(observation, this.judged.judgment)
    ) {
      const judgment = judgeIntegrity(observation, baseline, this.packageChanges.context(ctx, observation));
      this.whoData.judged(judgment.findings, observation.startedAt.getTime());
      this.judged = { observation, baseline, judgment };
      // Only a new judgment changes the gauges: recording loops over every observed file (up to
      // max_paths), which scrapes between two scans need not pay for.
      this.record(observation, this.judged.judgment, baseline);
      this.packageChanges.judged(ctx, observation, this.judged.judgment);
    }
    // The writers are named at every collection: an audit record may be read after the change it tells of.
    const scanFindings = this.whoData.annotate(this.judged.judgment.findings);
    if (this.shownFindings?.scan !== scanFindings || this.shownFindings.privileged !== privileged) {
      this.shownFindings = { scan: scanFindings, privileged };
      this.metrics.mismatch.replace(
        [...scanFindings, ...privileged].map((f) => ({
          labels: { path: String(f.subject['path']), kind: f.kind, attribute: attributeOf(f) },
          value: 1,
        })),
      );
    }
    return { findings: [...scanFindings, ...privileged] };
  }

  async learn(ctx: CollectorContext, signal?: AbortSignal): Promise<BaselineEntries> {
    const progress = progressLine('integrity: hashing');
    // Past --baseline.timeout the scan goes on (a scan is never cut short), but its line ends now,
    // so the timeout error is not written after "… MB/s" and nothing is redrawn over it.
    signal?.addEventListener('abort', () => progress.done(), { once: true });
    try {
      // Running executables and package checksums are not part of the baseline: the scan at start
      // looks at them, in the background, so a first start is not held up by MD5s of every binary.
      await this.runScan(ctx, true, { progress, forBaseline: true });
      this.packageChanges.learn(ctx, this.dpkgReader(ctx.paths.rootfs), this.latestPaths);
    } finally {
      progress.done();
    }
    const entries: BaselineEntries = {};
    for (const [path, state] of this.latest!.files) entries[path] = { ...toBaselineEntry(state) };
    if (!signal?.aborted) Object.assign(entries, await this.privileged.learn(ctx));
    return entries;
  }

  learnedAlongside(): Readonly<Record<string, BaselineEntries>> {
    return this.packageChanges.learnedSections();
  }

  async start(context: () => CollectorContext): Promise<void> {
    const ctx = context();
    this.schedule = scheduleWork(name, ctx.policy.integrity.schedule, () => this.scheduledScan(context), this.log);
    this.context = context;
    this.startRealtime(ctx);
    this.whoData.reconcile(ctx.policy);
    this.privileged.start(context);
    void this.schedule.runNow();
  }

  /** The watch, when integrity.realtime asks for it: primed with the baseline's directories before the scan at start lists them. */
  private startRealtime(ctx: CollectorContext): void {
    if (!ctx.policy.integrity.realtime || this.realtime || !this.context) return;
    const context = this.context;
    this.realtime = new RealtimeWatch(
      ctx.paths.rootfs,
      ctx.paths.procfs,
      () => context().policy.integrity.package_database,
      {
        rescan: (targets) => this.rescan(context(), targets),
        scanAll: () => this.runScan(context(), false),
        stallHeld: () => this.stuck.list('file_system').length > 0,
      },
      this.watchMetrics,
      this.log,
    );
    const baseline = this.trustedBaseline(ctx);
    if (baseline) {
      const scope = compileWatchScope(effectiveWatchedPaths(ctx.policy.integrity, ctx.paths.rootfs), ctx.policy.integrity.exclude);
      const directories = [...baseline.keys()].filter((path) => baseline.get(path)?.type === 'directory');
      this.realtime.prime(scope, directories);
    }
  }

  policyChanged(ctx: CollectorContext): void {
    if (!ctx.policy.integrity.realtime) {
      this.realtime?.stop();
      this.realtime = undefined;
    } else this.startRealtime(ctx);
    if (this.context) {
      this.privileged.policyChanged(ctx, this.context);
      this.whoData.reconcile(ctx.policy);
    }
    this.schedule?.reschedule(ctx.policy.integrity.schedule);
    const schedule = this.schedule;
    if (!schedule || policyKey(ctx) === this.latestPolicyKey) return;
    // A scan already running observes the old paths: joining it is not enough, so look again after it.
    void schedule.runNow().then(() => {
      if (policyKey(ctx) !== this.latestPolicyKey && !this.abort.signal.aborted) void schedule.runNow();
    });
  }

  /** A scan in progress ends when the exporter closes the helper processes, right after. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.realtime?.stop();
    this.privileged.stop();
    this.schedule?.stop();
    await this.whoData.stop();
  }

  private async scheduledScan(context: () => CollectorContext): Promise<void> {
    const ctx = context();
    try {
      await this.runScan(ctx, 'due');
    } catch (error) {
      if (this.abort.signal.aborted) return; // stopped mid-scan
      throw error;
    }
  }

  /** A full rehash when none is on record or the last is older than `full_rehash_interval`. */
  private fullRehashDue(ctx: CollectorContext): boolean {
    return this.lastFullAt === undefined || Date.now() - this.lastFullAt >= ctx.policy.integrity.full_rehash_interval * 1000;
  }

  /** `full: 'due'` decides when the scan starts, after any it waited for (a full one resets the clock). */
  private runScan(
    ctx: CollectorContext,
    full: boolean | 'due',
    how: { progress?: ProgressLine; forBaseline?: boolean } = {},
  ): Promise<void> {
    const run = this.scanning.then(() => this.scanOnce(ctx, full === 'due' ? this.fullRehashDue(ctx) : full, how));
    this.scanning = run.catch(() => undefined);
    return run;
  }

  private async scanOnce(ctx: CollectorContext, full: boolean, how: { progress?: ProgressLine; forBaseline?: boolean }): Promise<void> {
    const { progress } = how;
    const baseline = this.trustedBaseline(ctx);
    const previous = this.latest;
    const images = this.images;
    // A process's first scan starts from the hashes the last one left on disk.
    const cached = previous === undefined && !how.forBaseline ? this.hashCache.read() : undefined;
    // The last scan's hash of a path, else the cached one, else the baseline's: each is reused while the fast-path key holds.
    const known = (path: string): KnownHash | undefined => {
      const last = previous?.files.get(path);
      if (last?.sha256 === undefined) {
        const hit = cached?.files.get(path);
        if (hit) return hit;
      }
      const state = last ?? baseline?.get(path);
      return state?.sha256 !== undefined
        ? { key: fastPathKey(state), sha256: state.sha256, ...(state.md5 && { md5: state.md5 }) }
        : undefined;
    };
    const dpkgBefore = how.forBaseline ? undefined : this.packageChanges.beforeScan(ctx);
    let result;
    const paths = effectiveWatchedPaths(ctx.policy.integrity, ctx.paths.rootfs);
    try {
      result = await scan({
        rootfs: ctx.paths.rootfs,
        procfs: ctx.paths.procfs,
        policy: { ...ctx.policy.integrity, paths, ...(how.forBaseline && { running_executables: false, package_database: false }) },
        dpkg: this.dpkgReader(ctx.paths.rootfs),
        full,
        known,
        knownImage: (key) => images.get(key) ?? cached?.images.get(key),
        fs: this.fs,
        signal: this.abort.signal,
        ...(progress && { progress: (files: number, bytes: number) => progress.update(files, bytes) }),
      });
    } catch (error) {
      if (this.abort.signal.aborted) throw new Error('integrity scan stopped');
      throw error;
    }
    const { observation } = result;
    if (dpkgBefore) this.packageChanges.afterScan(ctx, dpkgBefore, observation);
    this.images = result.images;
    this.latest = observation;
    this.latestPolicyKey = policyKey(ctx);
    this.latestPaths = paths;
    this.realtime?.observed(observation);
    const cacheMissing = cached !== undefined && cached.files.size + cached.images.size === 0;
    if (!how.forBaseline && (cacheMissing || observation.hashedFiles > 0) && !this.hashCache.write(observation.files, result.images)) {
      this.log.debug('cannot record the hash cache', { file: this.hashCache.path });
    }
    if (full) {
      this.lastFullAt = observation.finishedAt.getTime();
      if (!this.fullRehash.write(this.lastFullAt)) this.log.debug('cannot record the full rehash', { file: this.fullRehash.path });
    }
    this.metrics.scans.inc({ mode: observation.mode });
    this.metrics.hashedBytes.inc(observation.hashedBytes);
    const troubled = scanProblems.filter((p) => observation.problems[p] > 0);
    if (troubled.length > 0) {
      this.log.warn('integrity scan could not observe every path', {
        ...observation.problems,
        examples: observation.problemExamples.join('; '),
      });
    }
    this.log.debug('integrity scan finished', {
      mode: observation.mode,
      files: observation.files.size,
      hashed_files: observation.hashedFiles,
      hashed_bytes: observation.hashedBytes,
      seconds: (observation.finishedAt.getTime() - observation.startedAt.getTime()) / 1000,
    });
  }

  /** A rescan of what the watch saw change, merged into the last observation; after any scan in progress. */
  private rescan(ctx: CollectorContext, targets: readonly string[]): Promise<'changes' | 'accounts'> {
    const run = this.scanning.then(() => this.rescanOnce(ctx, targets));
    this.scanning = run.catch(() => undefined);
    return run;
  }

  private async rescanOnce(ctx: CollectorContext, targets: readonly string[]): Promise<'changes' | 'accounts'> {
    const base = this.latest;
    const paths = effectiveWatchedPaths(ctx.policy.integrity, ctx.paths.rootfs);
    // No scan yet, or the accounts (or sshd's AuthorizedKeysFile) changed what is watched: everything, once.
    if (!base || policyKey(ctx) !== this.latestPolicyKey || paths.join('\n') !== this.latestPaths.join('\n')) {
      await this.scanOnce(ctx, false, {});
      return 'accounts';
    }
    const policy = ctx.policy.integrity;
    const dpkg = this.dpkgReader(ctx.paths.rootfs);
    // The database the rescan reads must answer for every observed path, not only the rescanned ones,
    // and name owners in the whole watched set (read once here; the rescan's own read is then a hit).
    if (policy.package_database)
      dpkg.read(new Set([...base.files.keys(), ...targets, ...(base.running?.images.map((i) => i.path) ?? [])]), base.scope);
    const known = (path: string): KnownHash | undefined => {
      const state = base.files.get(path) ?? this.trustedBaseline(ctx)?.get(path);
      return state?.sha256 !== undefined
        ? { key: fastPathKey(state), sha256: state.sha256, ...(state.md5 && { md5: state.md5 }) }
        : undefined;
    };
    const dpkgBefore = this.packageChanges.beforeScan(ctx);
    const images = this.images;
    const result = await scan({
      rootfs: ctx.paths.rootfs,
      procfs: ctx.paths.procfs,
      // The running executables are listed again (their hashes known by identity, a new one read):
      // judged beside the database as the rescan reads it, the last scan's list would still say a
      // process runs the file at its path after an upgrade replaced that file.
      policy: { ...policy, paths: [...targets] },
      dpkg,
      full: false,
      known,
      knownImage: (key) => images.get(key),
      fs: this.fs,
      signal: this.abort.signal,
      packageScope: base.scope,
    });
    const partial = result.observation;
    if (partial.running) this.images = result.images;
    this.metrics.hashedBytes.inc(partial.hashedBytes);
    this.latest = mergeRescan(base, targets, partial);
    // Findings of a rescan wait for a package operation as a scan's do (integrity-packages.ts).
    this.packageChanges.afterScan(ctx, dpkgBefore, this.latest, partial.finishedAt);
    this.realtime?.observed(this.latest);
    return 'changes';
  }

  private dpkgReader(rootfs: string): DpkgReader {
    // `check` runs once: dpkg's checksums of the paths it wants are kept in the state directory (dpkg-cache.ts).
    if (this.dpkg?.rootfs !== rootfs)
      this.dpkg = this.schedule ? new DpkgReader(rootfs) : new PersistentDpkgReader(rootfs, this.dpkgCacheFile);
    return this.dpkg;
  }

  /** Once per change: without a verified integrity section, file changes cannot be judged. */
  private sayWhatIsJudged(ctx: CollectorContext): void {
    const state = !ctx.baseline ? 'none' : ctx.baseline[name] ? 'section' : 'no-section';
    if (state === this.lastBaselineState) return;
    this.lastBaselineState = state;
    if (state === 'none') this.log.warn('no verified baseline: file changes are judged against the package database only');
    if (state === 'no-section') {
      this.log.warn(
        'the baseline has no integrity section (learned with the collector disabled): run `baseline update` to record file hashes',
      );
    }
  }

  /** The verified baseline's integrity section, validated once per version of the file. */
  private trustedBaseline(ctx: CollectorContext): TrustedBaseline | undefined {
    const section = ctx.baseline?.[name];
    if (!section) return undefined;
    let trusted = this.baselines.get(section);
    if (!trusted) {
      trusted = new TrustedBaseline(section);
      this.baselines.set(section, trusted);
      if (trusted.firstProblem) {
        this.log.error('ignoring malformed integrity baseline entries', {
          count: trusted.invalid,
          path: trusted.firstProblem.path,
          err: trusted.firstProblem.problem,
        });
      }
    }
    return trusted;
  }

  private record(observation: Observation, judgment: Judgment, baseline: TrustedBaseline | undefined): void {
    const m = this.metrics;
    const types = new Map<string, number>(fileTypes.map((t) => [t, 0]));
    for (const state of observation.files.values()) types.set(state.type, (types.get(state.type) ?? 0) + 1);
    for (const [type, count] of types) m.watchedFiles.set({ type }, count);
    m.lastScanStart.set(observation.startedAt.getTime() / 1000);
    m.lastScanEnd.set(observation.finishedAt.getTime() / 1000);
    m.lastScanDuration.set((observation.finishedAt.getTime() - observation.startedAt.getTime()) / 1000);
    m.lastScanHashedFiles.set(observation.hashedFiles);
    m.lastScanHashedBytes.set(observation.hashedBytes);
    m.lastFullRehash.set(this.lastFullAt === undefined ? 0 : this.lastFullAt / 1000);
    for (const problem of scanProblems) m.scanProblems.set({ problem }, observation.problems[problem]);
    const counts: Record<(typeof runningResults)[number], number> = {
      verified: judgment.running.verified,
      mismatch: judgment.running.mismatched,
      outdated: judgment.running.outdated,
      unverifiable: judgment.running.unverifiable,
      unreadable: judgment.running.unreadable + (observation.running?.trouble.unreadable ?? 0) + (observation.running?.trouble.stuck ?? 0),
      other_root: observation.running?.trouble.otherRoot ?? 0,
    };
    for (const result of runningResults) m.runningExecutables.set({ result }, counts[result]);
    m.baselineInvalidEntries.set(baseline?.invalid ?? 0);
    const dpkg = observation.packages;
    m.packageDatabasePresent.set({ manager: 'dpkg' }, dpkg?.present ? 1 : 0);
    m.packageVerifiedFiles.set({ manager: 'dpkg' }, judgment.packageFiles.verified);
    m.packageMismatchedFiles.set({ manager: 'dpkg' }, judgment.packageFiles.mismatched);
    m.packageLastActivity.reset();
    const activity: Record<(typeof packageActivitySources)[number], number | undefined> = {
      status: dpkg?.statusChangedAt,
      log: dpkg?.logLastAt,
    };
    for (const source of packageActivitySources) {
      const at = activity[source];
      if (at !== undefined) m.packageLastActivity.set({ manager: 'dpkg', source }, at);
    }
  }
}

/** What, in the policy, changes which paths a scan observes. */
function policyKey(ctx: CollectorContext): string {
  const p = ctx.policy.integrity;
  return JSON.stringify([p.paths, p.exclude, p.running_executables, p.package_database]);
}

export const integrityCollector: CollectorDefinition = {
  ...collectorCatalog.integrity,
  create: (env) => new IntegrityCollector(env),
};

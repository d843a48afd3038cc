import type { BaselineEntries, BaselineSections } from '../baseline/baseline.js';
import { dpkgActivity, type DpkgActivity } from '../integrity/dpkg-operation.js';
import type { DpkgReader } from '../integrity/dpkg.js';
import { toBaselineEntry } from '../integrity/file-state.js';
import type { Judgment } from '../integrity/judge.js';
import type { ChangedPackage, PackageContext, PackageRecord } from '../integrity/judge-packages.js';
import {
  acceptReasons,
  appendHistory,
  formerHashes,
  historySection,
  packageEntry,
  packagesSection,
  packagesSectionOf,
  readHistory,
  readPackagesSection,
  type HistoryRecord,
  type PathChange,
  type RecordedPackages,
} from '../integrity/package-baseline.js';
import type { Observation } from '../integrity/scan.js';
import type { PackageView } from '../integrity/snapshot.js';
import { compileWatchScope } from '../integrity/watch-scope.js';
import type { Logger } from '../log/logger.js';
import { integrityMetricSpecs as specs } from '../metrics/integrity.js';
import { registerCounter, registerGauge } from '../metrics/spec.js';
import type { CollectorContext, CollectorEnv } from './collector.js';

/**
 * How long findings wait while a package operation runs (judge-packages.ts holdDuringOperation):
 * dpkg puts a package's files in place seconds before it records them, and an upgrade of many
 * packages takes minutes.
 */
export const packageOperationGraceSeconds = 15 * 60;

/** The integrity collector's own section: the watched files. */
const name = 'integrity';

/**
 * The integrity collector's side of package changes: whether dpkg ran during a scan, what the
 * judgment is told of the database and of the baseline's `packages` and `history` sections, and
 * writing what it explained into the baseline (logged and counted).
 */
export class PackageChanges {
  private readonly operations = new WeakMap<Observation, { inProgress: boolean; since?: number; changedDuringScan: boolean }>();
  /** When this exporter first saw the package operation that is still running (Unix seconds): when its holder's start cannot be read. */
  private operationSince: number | undefined;
  private verifiedImages = new Set<string>();
  private readonly recordedCache = new WeakMap<BaselineEntries, RecordedPackages>();
  private readonly historyCache = new WeakMap<BaselineEntries, Map<string, Set<string>>>();
  private readonly metrics;
  private saidNoRecord = false;
  private learned: BaselineEntries | undefined;

  constructor(
    private readonly env: CollectorEnv,
    private readonly log: Logger,
  ) {
    this.metrics = {
      inProgress: registerGauge(env.registry, specs.packageOperation),
      held: registerGauge(env.registry, specs.heldFindings),
      accepted: registerCounter(env.registry, specs.autoAccepted),
    };
    for (const reason of acceptReasons) this.metrics.accepted.inc({ reason }, 0);
    this.metrics.held.set(0);
  }

  /** dpkg's state as a scan starts. */
  beforeScan(ctx: CollectorContext): DpkgActivity {
    return dpkgActivity(ctx.paths.rootfs, ctx.paths.procfs);
  }

  /**
   * After the scan (or a rescan of the watch, merged into `observation`, which finished at `finishedAt`): a package operation ran during it when either look saw dpkg's lock held; the
   * database changing between the looks without a lock seen only keeps the scan from accepting.
   */
  afterScan(ctx: CollectorContext, before: DpkgActivity, observation: Observation, finishedAt = observation.finishedAt): void {
    const after = dpkgActivity(ctx.paths.rootfs, ctx.paths.procfs);
    const inProgress = before.busy || after.busy;
    const changedDuringScan = before.signature !== after.signature;
    const now = Math.floor(finishedAt.getTime() / 1000);
    if (!inProgress) this.operationSince = undefined;
    else this.operationSince ??= now;
    const starts = [before.since, after.since].filter((t): t is number => t !== undefined);
    const since = starts.length > 0 ? Math.min(...starts) : this.operationSince;
    this.operations.set(observation, { inProgress, changedDuringScan, ...(inProgress && since !== undefined && { since }) });
    this.metrics.inProgress.set({ manager: 'dpkg' }, inProgress || changedDuringScan ? 1 : 0);
    if (inProgress) {
      const holders = [...new Set([...before.holders, ...after.holders])].join(',');
      this.log.info(
        'a package operation is running: integrity findings wait for it (at most 15 minutes from its start), nothing is accepted',
        { holders, ...(since !== undefined && { since: new Date(since * 1000).toISOString() }) },
      );
    } else if (changedDuringScan) this.log.info('the dpkg database changed during the integrity scan: nothing is accepted from this scan');
  }

  /** What the judgment needs to explain changes; undefined without a package database (nothing is explained). */
  context(ctx: CollectorContext, observation: Observation): PackageContext | undefined {
    const current = observation.packages;
    if (!current?.present) return undefined;
    const operation = this.operations.get(observation) ?? { inProgress: false };
    this.sayWhenNothingIsRecorded(ctx.baseline);
    return {
      current,
      recorded: this.recordedOf(ctx.baseline?.[packagesSection]),
      formerHashes: this.formerHashesOf(ctx.baseline?.[historySection]),
      verifiedImages: this.verifiedImages,
      operation,
      now: Date.now() / 1000,
      graceSeconds: packageOperationGraceSeconds,
    };
  }

  /** Whether a judgment that held findings back must be made again: its grace has run out. */
  graceEnded(observation: Observation, judgment: Judgment): boolean {
    const since = this.operations.get(observation)?.since;
    return judgment.held > 0 && since !== undefined && Date.now() / 1000 - since >= packageOperationGraceSeconds;
  }

  /** After a judgment: remember the images it verified, and write what it explained into the baseline. */
  judged(ctx: CollectorContext, observation: Observation, judgment: Judgment): void {
    const running = new Set((observation.running?.images ?? []).flatMap((i) => (i.key === undefined ? [] : [i.key])));
    // Still-running images verified before stay vouched for once replaced; exited ones are forgotten.
    this.verifiedImages = new Set([...judgment.verifiedImages, ...[...this.verifiedImages].filter((key) => running.has(key))]);
    this.metrics.held.set(judgment.held);
    if (judgment.held > 0)
      this.log.warn(
        'integrity findings held back while a package operation runs; they are reported when it ends, or 15 minutes after it started',
        { held: judgment.held },
      );
    const record = judgment.packageRecord;
    if (record && ctx.baseline && observation.packages) this.write(ctx.baseline, record, observation.packages);
  }

  /** The `packages` section to learn beside `integrity` (read whether or not package_database is on, so the two always agree). */
  learn(ctx: CollectorContext, dpkg: DpkgReader, paths: readonly string[] = ctx.policy.integrity.paths): void {
    const policy = ctx.policy.integrity;
    const activity = this.beforeScan(ctx);
    if (activity.busy)
      this.log.warn('a package operation is running while the baseline is learned: it records the package database half-way', {
        holders: activity.holders.join(','),
      });
    this.learned = packagesSectionOf(dpkg.read(new Set(), compileWatchScope(paths, policy.exclude)).packages);
  }

  learnedSections(): Readonly<Record<string, BaselineEntries>> {
    return this.learned ? { [packagesSection]: this.learned } : {};
  }

  private write(basedOn: BaselineSections, record: PackageRecord, current: PackageView): void {
    if (record.adopt) {
      if (!basedOn[name]) return; // nothing recorded of the files either: `baseline update` records both
      const outcome = this.env.acceptIntoBaseline(basedOn, { [packagesSection]: packagesSectionOf(current.packages) });
      if (outcome.written)
        this.log.info('recorded the package database in the baseline: package changes from now on are explained file by file', {
          packages: current.packages.size,
        });
      else this.log.warn('could not record the package database in the baseline', { err: outcome.reason });
      return;
    }
    const at = new Date().toISOString();
    const sections = {
      [name]: acceptedFiles(basedOn[name] ?? {}, record),
      [packagesSection]: changedPackages(basedOn[packagesSection] ?? {}, record.packages),
      [historySection]: appendHistory(basedOn[historySection], historyRecords(at, record)),
    };
    const outcome = this.env.acceptIntoBaseline(basedOn, sections);
    if (!outcome.written) {
      this.log.warn('could not accept package changes into the baseline; they are judged again at the next collection', {
        err: outcome.reason,
      });
      return;
    }
    for (const path of record.accepted) this.metrics.accepted.inc({ reason: path.reason });
    for (const pkg of record.packages) {
      const paths = record.accepted.filter((a) => a.package === pkg.key);
      if (paths.length === 0) continue;
      this.log.info('accepted into the baseline: explained by the package database', {
        package: pkg.key,
        reason: pkg.reason,
        ...(pkg.before && { version_before: pkg.before.version }),
        ...(pkg.after && { version_after: pkg.after.version }),
        paths: paths.length,
        examples: paths
          .slice(0, 5)
          .map((a) => a.path)
          .join(' '),
      });
    }
  }

  /** An empty section (learned where dpkg's database could not be read) records nothing: it is not "no package was installed". */
  private recordedOf(section: BaselineEntries | undefined): RecordedPackages | undefined {
    if (!section || Object.keys(section).length === 0) return undefined;
    let parsed = this.recordedCache.get(section);
    if (!parsed) this.recordedCache.set(section, (parsed = readPackagesSection(section)!));
    return parsed;
  }

  private formerHashesOf(section: BaselineEntries | undefined): Map<string, Set<string>> {
    if (!section) return new Map();
    let parsed = this.historyCache.get(section);
    if (!parsed) this.historyCache.set(section, (parsed = formerHashes(readHistory(section))));
    return parsed;
  }

  private sayWhenNothingIsRecorded(baseline: BaselineSections | undefined): void {
    if (!baseline?.[name] || Object.keys(baseline[packagesSection] ?? {}).length > 0 || this.saidNoRecord) return;
    this.saidNoRecord = true;
    this.log.warn(
      'the baseline does not record the package database (written by an older version): package changes are not accepted by themselves until it does; it is recorded at the first scan that matches the baseline, or by `baseline update`',
    );
  }
}

/** The integrity section with the explained paths accepted (their state now, or gone), and the paths beside them refreshed. */
function acceptedFiles(section: BaselineEntries, record: PackageRecord): BaselineEntries {
  const out: BaselineEntries = { ...section };
  for (const [path, now] of record.refreshed) out[path] = { ...toBaselineEntry(now) };
  for (const a of record.accepted) {
    if (a.now) out[a.path] = { ...toBaselineEntry(a.now) };
    else delete out[a.path];
  }
  return out;
}

function changedPackages(section: BaselineEntries, packages: readonly ChangedPackage[]): BaselineEntries {
  const out: BaselineEntries = { ...section };
  for (const pkg of packages) {
    if (pkg.after) out[pkg.key] = packageEntry(pkg.after);
    else delete out[pkg.key];
  }
  return out;
}

/** One history record per package whose change explained watched paths. */
function historyRecords(at: string, record: PackageRecord): HistoryRecord[] {
  return record.packages.flatMap((pkg): HistoryRecord[] => {
    const paths: Record<string, PathChange> = {};
    for (const a of record.accepted) {
      if (a.package !== pkg.key) continue;
      const change: PathChange['change'] = !a.now ? 'removed' : a.before ? 'changed' : 'added';
      paths[a.path] = {
        change,
        ...(a.before?.sha256 && { sha256_before: a.before.sha256 }),
        ...(a.now?.sha256 && { sha256_after: a.now.sha256 }),
      };
    }
    if (Object.keys(paths).length === 0) return [];
    return [
      {
        at,
        reason: pkg.reason,
        package: pkg.key,
        ...(pkg.before && { version_before: pkg.before.version }),
        ...(pkg.after && { version_after: pkg.after.version }),
        paths,
      },
    ];
  });
}

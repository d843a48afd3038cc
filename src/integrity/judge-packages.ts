import { dirname } from 'node:path';
import type { Finding } from '../findings/finding.js';
import type { FileState } from './file-state.js';
import type { AcceptReason, RecordedPackage, RecordedPackages } from './package-baseline.js';
import type { InstalledPackage, PackageView, RunningObservation } from './snapshot.js';

/**
 * The explanation step of the integrity judgment: which differences from the baseline the dpkg
 * database accounts for. A watched path that changed, appeared or disappeared is explained when a
 * package whose database entries changed since the baseline (installed, upgraded, removed, purged)
 * lists it, and what is there now is what that package recorded:
 *
 * - a regular file: its MD5 is the one in PACKAGE.md5sums, or for a configuration file the one in
 *   the status file (what the package shipped); `X.dpkg-dist`/`X.dpkg-new` is the package's new
 *   version of configuration file X kept beside the administrator's, `X.dpkg-old` the
 *   administrator's former X (the baseline's content of X) set aside for the package's;
 * - a directory or symbolic link: listed (dpkg records no more about them);
 * - a removed path: the changed package listed it when the baseline was written, and no package
 *   lists it now.
 *
 * Never explained: a setuid or setgid bit that was not there before (a new way to root waits for a
 * person), content that matches no record (a file changed by hand, even during an upgrade), a path
 * of a package the baseline says nothing about, anything while the baseline has no `packages`
 * section. Pure: plain objects in, decisions out.
 */

export interface PackageContext {
  readonly current: PackageView;
  /** The baseline's `packages` section, parsed; undefined when the baseline has none. */
  readonly recorded: RecordedPackages | undefined;
  /** SHA-256s each path had before accepted package changes (the baseline's history). */
  readonly formerHashes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Running images (device, inode, size, times) this exporter verified before. */
  readonly verifiedImages: ReadonlySet<string>;
  /**
   * inProgress: a process held dpkg's lock during the scan, since when (Unix seconds: the holder's
   * start, else when this exporter first saw it). changedDuringScan: the database changed between
   * the scan's start and end, with no lock seen: nothing is accepted from it, nothing held.
   */
  readonly operation: { readonly inProgress: boolean; readonly since?: number; readonly changedDuringScan?: boolean };
  /** Unix seconds now. */
  readonly now: number;
  /** How long findings are held back while a package operation runs. */
  readonly graceSeconds: number;
}

export interface ChangedPackage {
  readonly key: string;
  readonly reason: AcceptReason;
  readonly before?: RecordedPackage;
  readonly after?: InstalledPackage;
}

export interface AcceptedPath {
  readonly path: string;
  readonly package: string;
  readonly reason: AcceptReason;
  readonly before?: FileState;
  /** Absent: the path was removed. */
  readonly now?: FileState;
}

/** What the baseline should record after this judgment: only when no package operation ran during the scan. */
export interface PackageRecord {
  readonly accepted: readonly AcceptedPath[];
  /**
   * Paths with no finding whose inode or times moved with the change (the directories of accepted
   * paths, files a package rewrote with the same content): recorded as they are now, so
   * `baseline diff` does not list them.
   */
  readonly refreshed: ReadonlyMap<string, FileState>;
  /** Packages whose recorded entry is replaced (after) or dropped (no after). */
  readonly packages: readonly ChangedPackage[];
  /** The baseline had no `packages` section and the host matched it: the whole database is recorded. */
  readonly adopt: boolean;
}

/** The paths one package change explains, and how the baseline looks once they are accepted. */
export interface PackageAccounting {
  readonly findings: Finding[];
  readonly accepted: ReadonlyMap<string, AcceptedPath>;
  readonly changed: ReadonlyMap<string, ChangedPackage>;
  readonly refreshed: ReadonlyMap<string, FileState>;
  /** The baseline's state of a path once the explained changes are accepted. */
  baselineOf(path: string): FileState | undefined;
}

const explainableKinds = new Set(['content_changed', 'metadata_changed', 'added', 'removed']);
const setIdBits = 0o6000;

interface BaselineLookup {
  get(path: string): FileState | undefined;
}

/** Drop the findings the package database explains; keep everything else untouched. */
export function accountForPackages(
  findings: readonly Finding[],
  files: ReadonlyMap<string, FileState>,
  baseline: BaselineLookup | undefined,
  ctx: PackageContext | undefined,
): PackageAccounting {
  const changed = ctx?.recorded && baseline ? changedPackages(ctx.recorded, ctx.current) : new Map<string, ChangedPackage>();
  const accepted = new Map<string, AcceptedPath>();
  const refused = new Set<string>();
  if (changed.size > 0 && ctx && baseline) {
    for (const f of findings) {
      const path = String(f.subject['path']);
      if (f.kind === 'package_mismatch') refused.add(path);
      if (!explainableKinds.has(f.kind) || accepted.has(path) || refused.has(path)) continue;
      const before = baseline.get(path);
      const now = files.get(path);
      const explained = explain(path, before, now, changed, ctx.current, baseline);
      if (explained)
        accepted.set(path, { path, package: explained.key, reason: explained.reason, ...(before && { before }), ...(now && { now }) });
      else refused.add(path);
    }
    for (const path of refused) accepted.delete(path);
  }
  return {
    refreshed: refreshedPaths(findings, files, baseline, accepted, changed),
    findings:
      accepted.size === 0
        ? [...findings]
        : findings.filter((f) => !(explainableKinds.has(f.kind) && accepted.has(String(f.subject['path'])))),
    accepted,
    changed,
    baselineOf: (path) => {
      const a = accepted.get(path);
      return a ? a.now : baseline?.get(path);
    },
  };
}

/** Observed paths without a finding, near an accepted change, whose baseline entry is out of date (inode or times). */
function refreshedPaths(
  findings: readonly Finding[],
  files: ReadonlyMap<string, FileState>,
  baseline: BaselineLookup | undefined,
  accepted: ReadonlyMap<string, AcceptedPath>,
  changed: ReadonlyMap<string, ChangedPackage>,
): Map<string, FileState> {
  const refreshed = new Map<string, FileState>();
  if (!baseline || changed.size === 0) return refreshed;
  const withFindings = new Set(findings.map((f) => String(f.subject['path'])));
  const consider = (path: string) => {
    if (accepted.has(path) || withFindings.has(path) || refreshed.has(path)) return;
    const before = baseline.get(path);
    const now = files.get(path);
    if (!before || !now || (now.type === 'file' && now.sha256 === undefined)) return;
    if (before.inode !== now.inode || before.mtimeNs !== now.mtimeNs || before.ctimeNs !== now.ctimeNs) refreshed.set(path, now);
  };
  for (const path of accepted.keys()) consider(dirname(path));
  for (const c of changed.values()) for (const path of c.after?.paths ?? []) consider(path);
  return refreshed;
}

/** Packages whose database entries differ from the baseline's record; half-done ones are left for later. */
export function changedPackages(recorded: RecordedPackages, current: PackageView): Map<string, ChangedPackage> {
  const changed = new Map<string, ChangedPackage>();
  for (const [key, after] of current.packages) {
    if (!after.settled) continue;
    const before = recorded.get(key);
    if (before === 'invalid') continue;
    if (before === undefined) changed.set(key, { key, reason: 'package_install', after });
    else if (before.fingerprint !== after.fingerprint) changed.set(key, { key, reason: reasonOf(before, after), before, after });
  }
  for (const [key, before] of recorded) {
    if (before !== 'invalid' && !current.packages.has(key)) changed.set(key, { key, reason: 'package_purge', before });
  }
  return changed;
}

function reasonOf(before: RecordedPackage, after: InstalledPackage): AcceptReason {
  const was = before.state !== 'config-files';
  const is = after.state !== 'config-files';
  if (was && !is) return 'package_removal';
  if (!was && is) return 'package_install';
  return before.version === after.version ? 'package_change' : 'package_upgrade';
}

function explain(
  path: string,
  before: FileState | undefined,
  now: FileState | undefined,
  changed: ReadonlyMap<string, ChangedPackage>,
  current: PackageView,
  baseline: BaselineLookup,
): ChangedPackage | undefined {
  if (now === undefined) {
    // Gone: the package that listed it changed, and nothing lists it any more.
    if (before === undefined || current.ownersOf(path).length > 0) return undefined;
    return [...changed.values()].find((c) => c.before?.paths.has(path));
  }
  if (gainsSetId(before, now)) return undefined;
  if (now.type !== 'file') {
    const owner = current.ownersOf(path).find((key) => changed.has(key));
    return owner === undefined ? undefined : changed.get(owner);
  }
  const expected = current.checksumOf(path) ?? current.conffileOf(path);
  if (expected) return expected.md5 === now.md5 ? changed.get(expected.key) : undefined;
  return explainConffileCopy(path, now, changed, current, baseline);
}

/** dpkg's copies beside a configuration file it did not overwrite, or overwrote. */
function explainConffileCopy(
  path: string,
  now: FileState,
  changed: ReadonlyMap<string, ChangedPackage>,
  current: PackageView,
  baseline: BaselineLookup,
): ChangedPackage | undefined {
  const copy = /^(.+)\.dpkg-(dist|new|old)$/.exec(path);
  if (!copy) return undefined;
  const conffile = current.conffileOf(copy[1]!);
  const owner = conffile && changed.get(conffile.key);
  if (!owner) return undefined;
  if (copy[2] !== 'old') return conffile.md5 === now.md5 ? owner : undefined;
  const former = baseline.get(copy[1]!)?.sha256;
  return former !== undefined && former === now.sha256 ? owner : undefined;
}

function gainsSetId(before: FileState | undefined, now: FileState): boolean {
  if (now.type !== 'file') return false;
  const had = before?.type === 'file' ? before.mode & setIdBits : 0;
  return (now.mode & setIdBits & ~had) !== 0;
}

/**
 * A running image that differs from the file now at its path, where that file replaced it: the
 * image is the content the baseline held before an accepted package change (in this judgment or
 * in the history), or one this exporter verified before it was replaced. A process that needs a
 * restart (hostguard_processes_outdated), not a finding.
 */
export function isPreUpgradeImage(image: RunningObservation, accounting: PackageAccounting, ctx: PackageContext | undefined): boolean {
  if (!ctx || !image.deleted || image.sha256 === undefined) return false;
  if (image.key !== undefined && ctx.verifiedImages.has(image.key)) return true;
  if (accounting.accepted.get(image.path)?.before?.sha256 === image.sha256) return true;
  return ctx.formerHashes.get(image.path)?.has(image.sha256) === true;
}

/** What the baseline records after this judgment, if anything: never while a package operation runs. */
export function packageRecord(accounting: PackageAccounting, ctx: PackageContext | undefined, clean: boolean): PackageRecord | undefined {
  if (!ctx || ctx.operation.inProgress || ctx.operation.changedDuringScan) return undefined;
  if (ctx.recorded === undefined)
    return clean && ctx.current.packages.size > 0 ? { accepted: [], refreshed: new Map(), packages: [], adopt: true } : undefined;
  if (accounting.changed.size === 0) return undefined;
  return {
    accepted: [...accounting.accepted.values()],
    refreshed: accounting.refreshed,
    packages: [...accounting.changed.values()],
    adopt: false,
  };
}

/**
 * While a package operation runs, files can be in place before dpkg records them: every finding
 * waits, for at most `graceSeconds` from when the process holding dpkg's lock started (so a lock
 * held for ever, or a `check` run every minute, cannot stretch it). Safe because nothing is
 * accepted meanwhile: when the operation ends each change is judged again, explained or reported
 * at full severity, and one that outlasts the grace is reported while it still runs. A delay, never
 * a lower severity.
 */
export function holdDuringOperation(findings: Finding[], ctx: PackageContext | undefined): { reported: Finding[]; held: number } {
  const op = ctx?.operation;
  if (!ctx || !op?.inProgress || findings.length === 0) return { reported: findings, held: 0 };
  const since = op.since ?? ctx.now;
  if (ctx.now - since >= ctx.graceSeconds) return { reported: findings, held: 0 };
  return { reported: [], held: findings.length };
}

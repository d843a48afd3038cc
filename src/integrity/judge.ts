import type { Finding, Severity } from '../findings/finding.js';
import { finding as declaredFinding, type FindingKindSpec } from '../findings/kinds.js';
import type { FileState } from './file-state.js';
import { compileGlob } from '../match/glob.js';
import {
  accountForPackages,
  holdDuringOperation,
  isPreUpgradeImage,
  packageRecord,
  type PackageContext,
  type PackageRecord,
} from './judge-packages.js';
import { integrityKinds } from './kinds.js';
import type { PackageChecksum, RunningObservation } from './snapshot.js';
import { isInScope, selfAndAncestors, type WatchScope } from './watch-scope.js';

/**
 * The judgment: what the observation shows that the baseline and the package database do not
 * account for. Pure: plain objects in, findings out.
 */

/** The bounded `attribute` label of a mismatch: what differs. */
export const mismatchAttributes = [
  'content',
  'type',
  'mode',
  'setuid',
  'setgid',
  'owner',
  'group',
  'link_target',
  'presence',
  'capability',
] as const;
export type MismatchAttribute = (typeof mismatchAttributes)[number];

export interface JudgedObservation {
  readonly files: ReadonlyMap<string, FileState>;
  readonly scope: WatchScope;
  readonly unreadableDirs: readonly string[];
  /** Glob patterns not (fully) expanded: a path one could match is not judged removed unless a root covers it. */
  readonly unexpandedGlobs?: readonly string[];
  readonly running?: { readonly images: readonly RunningObservation[] };
  readonly packages?: { checksumOf(path: string): PackageChecksum | undefined };
}

/** The baseline's files, read on demand (a Map works): holding a second copy of ~12,000 entries costs megabytes. */
export interface BaselineFiles {
  get(path: string): FileState | undefined;
  keys(): Iterable<string>;
}

export interface Judgment {
  readonly findings: Finding[];
  /** outdated: a pre-upgrade image a package change replaced on disk (a restart is due, not a finding). */
  readonly running: { verified: number; mismatched: number; unverifiable: number; unreadable: number; outdated: number };
  readonly packageFiles: { verified: number; mismatched: number };
  /** Keys of the running images verified now: once replaced by an upgrade, they are pre-upgrade images. */
  readonly verifiedImages: readonly string[];
  /** Findings held back while a package operation runs (judge-packages.ts). */
  readonly held: number;
  /** What the package database explained, for the baseline to record. */
  readonly packageRecord?: PackageRecord;
}

const setuidBit = 0o4000;
const setgidBit = 0o2000;

/**
 * `baseline` undefined: no verified baseline (or no integrity section); judge by the package database alone.
 * `packages`: what explains changes made by package operations (judge-packages.ts); without it, nothing does.
 */
export function judgeIntegrity(observation: JudgedObservation, baseline: BaselineFiles | undefined, packages?: PackageContext): Judgment {
  const findings: Finding[] = [];
  if (baseline) {
    for (const [path, now] of observation.files) {
      const before = baseline.get(path);
      if (before === undefined) findings.push(added(path, now));
      else findings.push(...compareFile(path, before, now));
    }
    const unlisted = unlistedBy(observation);
    for (const path of baseline.keys()) {
      if (observation.files.has(path) || !isInScope(observation.scope, path) || unlisted(path)) continue;
      const before = baseline.get(path);
      if (before) findings.push(removed(path, before));
    }
  }
  const packageFiles = { verified: 0, mismatched: 0 };
  if (observation.packages) {
    for (const [path, now] of observation.files) {
      const expected = now.md5 !== undefined ? observation.packages.checksumOf(path) : undefined;
      if (!expected) continue;
      if (expected.md5 === now.md5) packageFiles.verified++;
      else {
        packageFiles.mismatched++;
        findings.push(
          declaredFinding(
            integrityKinds.package_mismatch,
            { path, package: expected.package },
            `${path} does not match package ${expected.package}: MD5 ${now.md5} where dpkg recorded ${expected.md5}`,
          ),
        );
      }
    }
  }
  const accounting = accountForPackages(findings, observation.files, baseline, packages);
  const unexplained = accounting.findings;
  const running = { verified: 0, mismatched: 0, unverifiable: 0, unreadable: 0, outdated: 0 };
  const verifiedImages: string[] = [];
  for (const image of observation.running?.images ?? []) {
    if (image.sha256 === undefined) {
      running.unreadable++;
      continue;
    }
    const verdict = judgeImage(image, accounting.baselineOf(image.path), observation.packages?.checksumOf(image.path));
    if (verdict === undefined) running.unverifiable++;
    else if (verdict === true) {
      running.verified++;
      if (image.key !== undefined) verifiedImages.push(image.key);
    } else if (isPreUpgradeImage(image, accounting, packages)) running.outdated++;
    else {
      running.mismatched++;
      unexplained.push(verdict);
    }
  }
  const record = packageRecord(accounting, packages, unexplained.length === 0);
  const { reported, held } = holdDuringOperation(unexplained, packages);
  return { findings: reported, running, packageFiles, verifiedImages, held, ...(record && { packageRecord: record }) };
}

/**
 * Whether the scan may have missed a path rather than found it gone: below a directory it could not
 * list, or matched by a glob it could not expand and not below a root (roots are listed first, in
 * full or recorded as unlisted directories).
 */
function unlistedBy(observation: JudgedObservation): (path: string) => boolean {
  const dirs = new Set(observation.unreadableDirs);
  const roots = new Set(observation.scope.roots);
  const globs = (observation.unexpandedGlobs ?? []).map(
    (pattern) => observation.scope.globs.find((g) => g.pattern === pattern)?.matches ?? compileGlob(pattern),
  );
  return (path) => {
    const chain = selfAndAncestors(path);
    if (chain.some((p) => dirs.has(p))) return true;
    return globs.length > 0 && !chain.some((p) => roots.has(p)) && chain.some((p) => globs.some((matches) => matches(p)));
  };
}

function judgeImage(
  image: RunningObservation,
  before: FileState | undefined,
  expected: PackageChecksum | undefined,
): Finding | true | undefined {
  let source: 'baseline' | 'package';
  let detail: string;
  if (before?.sha256 !== undefined) {
    if (before.sha256 === image.sha256) return true;
    source = 'baseline';
    detail = `SHA-256 ${image.sha256} where the baseline has ${before.sha256}`;
  } else if (expected && image.md5 !== undefined) {
    if (expected.md5 === image.md5) return true;
    source = 'package';
    detail = `MD5 ${image.md5} where package ${expected.package} has ${expected.md5}`;
  } else return undefined;
  const pids = image.pids.length > 5 ? `${image.pids.slice(0, 5).join(', ')} and ${image.pids.length - 5} more` : image.pids.join(', ');
  const state = image.deleted ? 'a replaced or deleted' : 'the current';
  return declaredFinding(
    integrityKinds.running_binary_mismatch,
    { path: image.path, expected: source, deleted: image.deleted },
    `process ${pids} runs ${state} ${image.path} that does not match the ${source}: ${detail}`,
  );
}

function finding<S extends Severity>(
  spec: FindingKindSpec<string, S>,
  severity: NoInfer<S>,
  path: string,
  message: string,
  attribute?: MismatchAttribute,
): Finding {
  return declaredFinding(spec, attribute ? { path, attribute } : { path }, message, severity);
}

function added(path: string, now: FileState): Finding {
  return finding(
    integrityKinds.added,
    'critical',
    path,
    `${describe(now)} ${path} appeared (mode ${octal(now.mode)}, uid ${now.uid}, gid ${now.gid})`,
  );
}

function removed(path: string, before: FileState): Finding {
  return finding(integrityKinds.removed, 'critical', path, `${describe(before)} ${path} is gone`);
}

/** Every difference between the baseline and now, one finding per attribute. */
export function compareFile(path: string, before: FileState, now: FileState): Finding[] {
  if (before.type !== now.type) {
    return [finding(integrityKinds.metadata_changed, 'warning', path, `${path} was a ${before.type} and is now a ${now.type}`, 'type')];
  }
  const out: Finding[] = [];
  const bitChange = (bit: number, attribute: 'setuid' | 'setgid') => {
    const had = (before.mode & bit) !== 0;
    const has = (now.mode & bit) !== 0;
    if (had === has) return;
    const verb = has ? 'set' : 'cleared';
    out.push(
      finding(
        integrityKinds.metadata_changed,
        has ? 'critical' : 'warning',
        path,
        `${attribute} bit ${verb} on ${path} (mode ${octal(before.mode)} → ${octal(now.mode)})`,
        attribute,
      ),
    );
  };
  bitChange(setuidBit, 'setuid');
  bitChange(setgidBit, 'setgid');
  const otherBits = ~(setuidBit | setgidBit);
  if ((before.mode & otherBits) !== (now.mode & otherBits)) {
    out.push(
      finding(
        integrityKinds.metadata_changed,
        'warning',
        path,
        `mode of ${path} changed: ${octal(before.mode)} → ${octal(now.mode)}`,
        'mode',
      ),
    );
  }
  if (before.uid !== now.uid)
    out.push(
      finding(integrityKinds.metadata_changed, 'warning', path, `owner of ${path} changed: uid ${before.uid} → ${now.uid}`, 'owner'),
    );
  if (before.gid !== now.gid)
    out.push(
      finding(integrityKinds.metadata_changed, 'warning', path, `group of ${path} changed: gid ${before.gid} → ${now.gid}`, 'group'),
    );
  if (before.type === 'symlink' && before.target !== now.target) {
    out.push(
      finding(
        integrityKinds.metadata_changed,
        'warning',
        path,
        `symlink ${path} now points to ${now.target ?? '?'} (was ${before.target ?? '?'})`,
        'link_target',
      ),
    );
  }
  if (before.type === 'file') {
    const hashed = before.sha256 !== undefined && now.sha256 !== undefined;
    // Unreadable now (counted as a scan problem): a different size still proves the content changed.
    if (hashed ? before.sha256 !== now.sha256 : before.size !== now.size) {
      const detail = hashed ? `SHA-256 ${now.sha256} was ${before.sha256}` : `size ${now.size} was ${before.size}`;
      out.push(finding(integrityKinds.content_changed, 'critical', path, `content of ${path} changed: ${detail}${timesNote(before, now)}`));
    }
  }
  return out;
}

/** An edit whose mtime was put back is worth saying so: that is what `touch -r` after tampering looks like. */
function timesNote(before: FileState, now: FileState): string {
  return before.mtimeNs === now.mtimeNs ? ' (mtime unchanged: restored with touch -r or similar)' : '';
}

/** The `attribute` label of a finding from this collector. */
export function attributeOf(finding: Finding): MismatchAttribute {
  const attribute = finding.subject['attribute'];
  if (typeof attribute === 'string' && (mismatchAttributes as readonly string[]).includes(attribute)) return attribute as MismatchAttribute;
  return finding.kind === 'added' || finding.kind === 'removed' ? 'presence' : 'content';
}

function describe(state: FileState): string {
  return state.type === 'file' ? 'file' : state.type.replace('_', ' ');
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

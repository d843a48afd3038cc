import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { firstMatch } from '../match/glob.js';
import type { CodeView } from './code-view.js';
import { isMemfd, type ObservedProcess } from './host-view.js';
import { pidText } from './judge-programs.js';
import { processKinds } from './kinds.js';
import type { CompiledProcessPolicy } from './process-policy.js';

/** Code a process runs that no package or rule put there: a library preloaded or injected into it. */
export interface InjectedCode {
  /** The mapped file, or the path LD_PRELOAD names. */
  readonly library: string;
  readonly how: 'mapped' | 'preload';
  readonly reason: string;
}

/**
 * A process's executable mappings and LD_PRELOAD, judged: a file in a writable location (the
 * policy's writable_locations, minus its exceptions), a memfd, or a deleted file that no package
 * upgrade replaced. The executable and its program are judged on their own (writable_location,
 * deleted_executable), so their mappings are skipped here.
 */
export function judgeInjected(code: CodeView, policy: CompiledProcessPolicy, dpkgChangedAt: number | undefined): InjectedCode[] {
  const found: InjectedCode[] = [];
  const root = code.containerRoot;
  const ownRoot = root !== undefined && root !== '/' ? `${root.replace(/\/+$/, '')}/` : undefined;
  for (const m of code.mappings) {
    if (code.ownFiles.includes(m.path)) continue;
    // A container's own libraries are judged as its executable is, by where its root lies; and as for
    // its executable, a deleted one is no sign there (the host cannot tell an upgrade inside it).
    if (ownRoot !== undefined && m.path.startsWith(ownRoot) && !isMemfd(m.path)) continue;
    const deletedReason =
      m.deleted && root === undefined && !upgraded(m, code.startedAt, dpkgChangedAt)
        ? 'the file was deleted or replaced after it was mapped, and not by a package upgrade'
        : undefined;
    const reason = placeReason(m.path, policy) ?? deletedReason;
    if (reason) found.push({ library: m.path, how: 'mapped', reason: `it maps executable code from ${m.path}: ${reason}` });
  }
  for (const path of code.preload) {
    if (found.some((f) => f.library === path)) continue;
    const reason =
      placeReason(path, policy) ?? (/^\/(proc|dev\/fd)\//.test(path) ? 'a descriptor path, the way a memfd is preloaded' : undefined);
    if (reason) found.push({ library: path, how: 'preload', reason: `LD_PRELOAD names ${path}: ${reason}` });
  }
  return found;
}

function placeReason(path: string, policy: CompiledProcessPolicy): string | undefined {
  if (isMemfd(path)) return 'a memfd, a file that exists only in memory';
  const at = firstMatch(policy.writableLocations, path);
  if (at === -1 || firstMatch(policy.writableExceptions, path) !== -1) return undefined;
  return `it lies in a temporary or world-writable place (${policy.writableLocationPatterns[at]})`;
}

/** As for executables: dpkg put a packaged file back at the path after the process started. */
function upgraded(m: CodeView['mappings'][number], startedAt: number, dpkgChangedAt: number | undefined): boolean {
  const facts = m.facts;
  return (
    facts !== undefined &&
    facts.packaged &&
    facts.replacedAt !== undefined &&
    facts.replacedAt >= startedAt &&
    dpkgChangedAt !== undefined &&
    dpkgChangedAt >= startedAt
  );
}

/**
 * The injected code of one collection: rows of hostguard_process_flagged (kind injected_library,
 * the process's executable in `exe`) and one finding per (executable, library, user).
 */
export class InjectedSummary {
  readonly flaggedRows: {
    readonly labels: { readonly exe: string; readonly user_class: string; readonly kind: string };
    readonly value: number;
  }[] = [];
  private readonly groups = new Map<string, { exe: string; user: string; code: InjectedCode; pids: number[] }>();

  add(p: ObservedProcess, found: readonly InjectedCode[]): void {
    if (found.length === 0 || p.exe.kind !== 'path') return;
    const exe = p.exe.path;
    this.flaggedRows.push({ labels: { exe, user_class: p.userClass, kind: 'injected_library' }, value: 1 });
    for (const code of found) {
      const key = JSON.stringify([exe, code.library, p.user]);
      const group = this.groups.get(key);
      if (group) group.pids.push(p.pid);
      else this.groups.set(key, { exe, user: p.user, code, pids: [p.pid] });
    }
  }

  findings(): Finding[] {
    return [...this.groups.values()].map(({ exe, user, code, pids }) => {
      return finding(processKinds.injected_library, { exe, library: code.library, user }, `${code.reason} (${pidText(pids)})`);
    });
  }
}

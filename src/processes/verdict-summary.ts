import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { isJudged, type JudgedProcess, type ProcessVerdict, type RunningProcessKind, type UnjudgedReason } from './judge.js';
import { processKinds } from './kinds.js';
import { containerPhrase, containerSubject, imageRepository } from '../containers/identity.js';
import { namedContainer } from './container-naming.js';

/** One series of a per-executable metric: its labels and value (the metrics' SeriesRow). */
interface SeriesRow<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

interface FindingGroup {
  readonly kind: RunningProcessKind;
  readonly verdict: JudgedProcess;
  readonly pids: number[];
}

/**
 * The verdicts of one collection, folded as they come: counts for the metrics, rows for the
 * per-executable series, and one finding per (kind, executable, user) — ten workers of one implant
 * are one thing to look at. Only flagged processes are kept, so judging a quiet host keeps nothing.
 */
export class VerdictSummary {
  userland = 0;
  kernelThreads = 0;
  outdated = 0;
  readonly unjudged: Record<UnjudgedReason, number> = { permission_denied: 0, malformed: 0 };
  /** Userland processes in a container (another root than the host's): judged for writable_location and name_mismatch only. */
  inContainers = 0;
  readonly flaggedRows: SeriesRow<'exe' | 'user_class' | 'kind'>[] = [];
  readonly cpuRows: SeriesRow<'exe' | 'user_class'>[] = [];
  readonly residentRows: SeriesRow<'exe' | 'user_class'>[] = [];
  /** Per finding of a process in a named container: its kind, image repository and pod UID. */
  readonly containerRows: SeriesRow<'kind' | 'image' | 'pod_uid'>[] = [];
  private readonly groups = new Map<string, FindingGroup>();

  static of(verdicts: Iterable<ProcessVerdict>): VerdictSummary {
    const summary = new VerdictSummary();
    for (const v of verdicts) summary.add(v);
    return summary;
  }

  add(v: ProcessVerdict): void {
    if (v.status === 'kernel_thread') {
      this.kernelThreads++;
      return;
    }
    this.userland++;
    if (v.status === 'unjudged') this.unjudged[v.reason]++;
    if (!isJudged(v)) return;
    const inContainer = v.knownBy === 'not_judged';
    if (inContainer) this.inContainers++;
    if (v.outdated) this.outdated++;
    if (v.kinds.length === 0) return;
    const labels = { exe: v.exe, user_class: v.process.userClass };
    for (const kind of v.kinds) {
      this.flaggedRows.push({ labels: { ...labels, kind }, value: 1 });
      const name = kind === 'name_mismatch' ? (v.claimedName ?? '') : '';
      const key = JSON.stringify([kind, v.exe, v.process.user, name, inContainer, v.containerNamespace ?? '', v.container?.id ?? '']);
      const group = this.groups.get(key);
      if (group) group.pids.push(v.process.pid);
      else this.groups.set(key, { kind, verdict: v, pids: [v.process.pid] });
      if (v.container)
        this.containerRows.push({
          labels: { kind, image: imageRepository(v.container.image), pod_uid: v.container.podUid ?? '' },
          value: 1,
        });
    }
    this.cpuRows.push({ labels, value: v.process.cpuSeconds });
    this.residentRows.push({ labels, value: v.process.rssBytes });
  }

  /**
   * The PIDs go in the message, never in the subject, so a finding keeps its identity as they
   * change. A container's finding names its mount namespace: its /tmp/x is not the host's /tmp/x.
   */
  findings(): Finding[] {
    return [...this.groups.values()].map(({ kind, verdict, pids }): Finding => {
      const subject: Record<string, string> = { exe: verdict.exe, user: verdict.process.user };
      if (kind === 'name_mismatch') subject['name'] = verdict.claimedName ?? '';
      const namespace = verdict.containerNamespace;
      if (namespace !== undefined) subject['mount_namespace'] = namespace;
      // A root of its own without a runtime's cgroup (unshare --root, a chroot in its own namespace) is named by its namespace only.
      const named = namedContainer(verdict.container);
      if (named) Object.assign(subject, containerSubject(named));
      const where =
        verdict.knownBy !== 'not_judged'
          ? ''
          : named
            ? `, in ${containerPhrase(named)}`
            : `, in a container (another root than the host's${namespace === undefined ? '' : `, mount namespace ${namespace}`})`;
      return finding(processKinds[kind], subject, `${verdict.reasons[kind]}${where} (${pidList(pids)})`);
    });
  }
}

function pidList(pids: readonly number[]): string {
  const sorted = [...pids].sort((a, b) => a - b);
  const shown = sorted.slice(0, 10).join(', ');
  return `${sorted.length === 1 ? 'PID' : `${sorted.length} processes, PIDs`} ${shown}${sorted.length > 10 ? ', …' : ''}`;
}

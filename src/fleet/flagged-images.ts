import { processFindingKinds } from '../processes/kinds.js';
import type { ProcessVerdict, RunningProcessKind } from '../processes/judge.js';
import type { ImageHash } from './image-hashes.js';

/**
 * Judgment side of the executable facts: which images have a finding, folded from the verdicts of
 * one collection. Pure: the hashes come in through `lookup`.
 */
export interface FlaggedImage {
  readonly exe: string;
  /** The most severe finding kind among the processes running it. */
  readonly kind: RunningProcessKind;
  /** Processes running it, any of which leads to the image through /proc/PID/exe. */
  readonly pids: readonly number[];
}

export interface FactRow<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

export interface Facts<L extends string> {
  readonly rows: FactRow<L>[];
  readonly pending: number;
  readonly unreadable: number;
}

const rank = new Map<string, number>(processFindingKinds.map((k, i) => [k, i]));

/**
 * Groups flagged processes by what tells their images apart without reading them: the path,
 * whether the file was deleted or replaced since start (then the image is no longer the file at
 * that path) and the container (another root, where the same path is another file).
 */
export class FlaggedImages {
  private readonly groups = new Map<string, { exe: string; kind: RunningProcessKind; pids: number[] }>();

  add(v: ProcessVerdict): void {
    if (v.status !== 'judged' || v.kinds.length === 0 || v.process.exe.kind !== 'path') return;
    const kind = v.kinds[0]!;
    const key = JSON.stringify([v.exe, v.process.exe.deleted, v.containerNamespace ?? '']);
    const group = this.groups.get(key);
    if (!group) this.groups.set(key, { exe: v.exe, kind, pids: [v.process.pid] });
    else {
      group.pids.push(v.process.pid);
      if ((rank.get(kind) ?? 0) < (rank.get(group.kind) ?? 0)) group.kind = kind;
    }
  }

  images(): FlaggedImage[] {
    return [...this.groups.values()];
  }
}

/** Tries at most this many processes of a group whose first ones exited meanwhile. */
const pidsTried = 3;

/**
 * One row per distinct (sha256, exe, kind): several groups can be one image (a container running
 * the host's file), and one host's copy of a binary at two paths is two rows.
 */
export function executableFacts(images: readonly FlaggedImage[], lookup: (pid: number) => ImageHash): Facts<'sha256' | 'exe' | 'kind'> {
  const rows = new Map<string, FactRow<'sha256' | 'exe' | 'kind'>>();
  let pending = 0;
  let unreadable = 0;
  for (const image of images) {
    let hash: ImageHash = { state: 'gone' };
    for (const pid of image.pids.slice(0, pidsTried)) {
      hash = lookup(pid);
      if (hash.state !== 'gone') break;
    }
    if (hash.state === 'pending') pending++;
    else if (hash.state === 'unreadable') unreadable++;
    else if (hash.state === 'hashed') {
      const labels = { sha256: hash.sha256, exe: image.exe, kind: image.kind };
      const key = JSON.stringify([hash.sha256, image.exe]);
      const existing = rows.get(key);
      if (!existing || (rank.get(image.kind) ?? 0) < (rank.get(existing.labels.kind) ?? 0)) rows.set(key, { labels, value: 1 });
    }
  }
  return { rows: [...rows.values()], pending, unreadable };
}

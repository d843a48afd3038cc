import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { processKinds } from './kinds.js';

/**
 * Hidden processes, judged from two looks at one PID. Pure: the sweep (hidden-sweep.ts) gathers
 * the looks; this decides.
 *
 * - `listing`: the kernel says the PID exists (kill(pid, 0), or a lookup of /proc/PID) but reading
 *   the /proc directory does not list it, and it is no thread of a listed process — what a kernel
 *   rootkit that filters getdents does.
 * - `procfs_entry`: listed and alive, but /proc/PID has no stat file — something is mounted over it
 *   (`mount --bind /empty /proc/PID` hides a process from ps and top).
 * - `ps`: readable in /proc, but absent from what `ps` prints — a trojaned ps, or a library hook.
 */
export const hiddenViews = ['listing', 'procfs_entry', 'ps'] as const;
export type HiddenView = (typeof hiddenViews)[number];

export interface PidLook {
  readonly pid: number;
  readonly alive: boolean;
  readonly listed: boolean;
  readonly statReadable: boolean;
  /** Thread group id from /proc/PID/status; undefined when unreadable. */
  readonly tgid: number | undefined;
  /** Whether that thread group's leader is listed. */
  readonly tgidListed: boolean;
  readonly startTicks: number | undefined;
  /** Whether ps reported it; undefined when ps was not consulted for this look. */
  readonly inPs: boolean | undefined;
  readonly comm: string | undefined;
}

export interface HiddenProcess {
  readonly pid: number;
  readonly view: HiddenView;
  readonly comm: string | undefined;
  /** Start time (clock ticks after boot) when stat was readable: tells the process from a later one with its PID. */
  readonly startTicks: number | undefined;
}

/** What one look says, if anything. */
export function hiddenView(look: PidLook): HiddenView | undefined {
  if (!look.alive) return undefined;
  if (!look.listed) {
    // A thread: /proc/TID exists for lookups but only its thread group is listed.
    if (look.tgid !== undefined && look.tgid !== look.pid && look.tgidListed) return undefined;
    return 'listing';
  }
  if (!look.statReadable) return 'procfs_entry';
  if (look.inPs === false) return 'ps';
  return undefined;
}

/** Hidden only when both looks agree on how, and it is the same process (same start time) both times. */
export function confirmHidden(first: PidLook, second: PidLook): HiddenProcess | undefined {
  const view = hiddenView(first);
  if (view === undefined || hiddenView(second) !== view) return undefined;
  if (first.startTicks !== undefined && second.startTicks !== undefined && first.startTicks !== second.startTicks) return undefined;
  return { pid: first.pid, view, comm: second.comm ?? first.comm, startTicks: second.startTicks ?? first.startTicks };
}

const explanation: Record<HiddenView, string> = {
  listing: 'the kernel knows this PID, but reading /proc does not list it (a kernel rootkit hides it from ps and top)',
  procfs_entry:
    'the PID is listed and alive, but /proc/PID shows no process files (something is mounted over it, which hides it from ps and top)',
  ps: 'the process is readable in /proc, but ps does not report it (a trojaned ps or a library hook hides it)',
};

export function hiddenFindings(hidden: readonly HiddenProcess[]): Finding[] {
  return hidden.map((h) =>
    finding(
      processKinds.hidden_process,
      { pid: h.pid, view: h.view },
      `PID ${h.pid}${h.comm ? ` (${h.comm})` : ''}: ${explanation[h.view]}; confirmed on a second look`,
    ),
  );
}

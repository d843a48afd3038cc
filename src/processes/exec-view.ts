import type { ContainerIdentity } from '../containers/identity.js';
import type { ObservedProcess } from './host-view.js';
import type { ProgramTarget } from './judge-programs.js';

/**
 * One exec read from the kernel audit log, as judgment sees it: the process as the records (and,
 * while it still ran, /proc) showed it, with what it ran beyond its executable. Plain data.
 */
export interface ObservedExec {
  readonly timeMs: number;
  readonly serial: number;
  /** The keys of the audit rules that recorded it. */
  readonly keys: readonly string[];
  /**
   * The process right after the exec: pid, ppid, uids, comm, argv[0] and executable from the
   * records; parent executable and root from /proc while they were still there. No CPU or memory.
   */
  readonly process: ObservedProcess;
  /** The script or loaded program, with an absolute path; undefined when there is none or it could not be resolved. */
  readonly program: ProgramTarget | undefined;
  /** Code handed inline or on stdin to an interpreter (stdin attached to a terminal is a session, not counted). */
  readonly inline: { readonly runner: string; readonly via: 'argument' | 'stdin' } | undefined;
  /** Which container, for an exec in one (its own root, or its gone process's parent's, under another root). */
  readonly container: ContainerIdentity | undefined;
}

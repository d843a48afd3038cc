import { basename } from 'node:path/posix';
import { compileGlob, type PathMatcher } from '../match/glob.js';
import { compiledPerPolicy } from './compiled-per-policy.js';

/**
 * What kind of program an executable is, by its file name: a shell or interpreter
 * (`processes.interpreters`), a network tool (`outbound.network_tools`), or anything else. The
 * name is enough: an attacker who renames bash to hide it runs an unknown executable instead.
 */
export type ProgramClass = 'interpreter' | 'network_tool' | 'other';
export const programClasses: readonly ProgramClass[] = ['interpreter', 'network_tool', 'other'];

/** The two lists, as the policy has them. */
export interface ProgramLists {
  readonly interpreters: readonly string[];
  readonly networkTools: readonly string[];
}

const compileNames = compiledPerPolicy((patterns: readonly string[]): readonly PathMatcher[] => patterns.map(compileGlob));

export function programClassOf(exe: string | undefined, lists: ProgramLists): ProgramClass {
  if (exe === undefined) return 'other';
  const name = basename(exe);
  if (compileNames(lists.interpreters).some((m) => m(name))) return 'interpreter';
  if (compileNames(lists.networkTools).some((m) => m(name))) return 'network_tool';
  return 'other';
}

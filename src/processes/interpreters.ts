import { compileGlob, type PathMatcher } from '../match/glob.js';

const compiled = new WeakMap<readonly string[], readonly PathMatcher[]>();

/** processes.interpreters compiled once per policy (load or reload). */
export function compileInterpreters(patterns: readonly string[]): readonly PathMatcher[] {
  let matchers = compiled.get(patterns);
  if (!matchers) compiled.set(patterns, (matchers = patterns.map(compileGlob)));
  return matchers;
}

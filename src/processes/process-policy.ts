import type { ProcessesPolicy } from '../config/sections/processes.js';
import { compileGlob, type PathMatcher } from '../match/glob.js';

export interface CompiledRule {
  readonly index: number;
  readonly exe: PathMatcher;
  readonly parent: PathMatcher | undefined;
  readonly users: ReadonlySet<string> | undefined;
}

export interface CompiledProtectedName {
  readonly name: string;
  /** comm is cut to 15 bytes by the kernel: the name as comm would show it. */
  readonly comm: string;
  readonly exe: readonly PathMatcher[];
}

/** The processes section with its globs compiled once per policy (load or reload). */
export interface CompiledProcessPolicy {
  readonly rules: readonly CompiledRule[];
  readonly packagedExecutables: boolean;
  readonly writableLocations: readonly PathMatcher[];
  readonly writableLocationPatterns: readonly string[];
  readonly writableExceptions: readonly PathMatcher[];
  readonly homeDirectories: boolean;
  readonly protectedNames: readonly CompiledProtectedName[];
  readonly hogCpuCores: number;
  readonly hogResidentBytes: number;
}

const compiled = new WeakMap<ProcessesPolicy, CompiledProcessPolicy>();

export function compileProcessPolicy(section: ProcessesPolicy): CompiledProcessPolicy {
  const cached = compiled.get(section);
  if (cached) return cached;
  const result: CompiledProcessPolicy = {
    rules: section.allow.map((rule, index) => ({
      index,
      exe: compileGlob(rule.exe),
      parent: rule.parent === undefined ? undefined : compileGlob(rule.parent),
      users: rule.users === undefined ? undefined : new Set(rule.users),
    })),
    packagedExecutables: section.packaged_executables,
    writableLocations: section.writable_locations.paths.map(compileGlob),
    writableLocationPatterns: section.writable_locations.paths,
    writableExceptions: section.writable_locations.except.map(compileGlob),
    homeDirectories: section.writable_locations.home_directories,
    protectedNames: section.protected_names.map((p) => ({ name: p.name, comm: p.name.slice(0, 15), exe: p.exe.map(compileGlob) })),
    hogCpuCores: section.resource_hog.cpu_cores,
    hogResidentBytes: section.resource_hog.resident_bytes,
  };
  compiled.set(section, result);
  return result;
}

import { basename } from 'node:path/posix';
import type { ContainersPolicy } from '../config/sections/containers.js';
import type { ContainerIdentity } from '../containers/identity.js';
import { compileGlob, type PathMatcher } from '../match/glob.js';
import type { ContainerFacts } from './container-facts.js';
import type { ObservedProcess } from './host-view.js';

/**
 * Judgment of what only a container has: an image to drift from, a package set to change, and
 * nobody who should be typing in it. Pure: a function of the process, the facts observation found
 * (container-observe.ts) and the `containers` policy section.
 */

export type ContainerKind = 'container_drift' | 'container_package_manager' | 'container_shell';

interface CompiledContainerRule {
  readonly index: number;
  readonly image: PathMatcher | undefined;
  readonly container: PathMatcher | undefined;
  readonly kinds: ReadonlySet<ContainerKind> | undefined;
}

export interface CompiledContainerPolicy {
  readonly packageManagers: ReadonlySet<string>;
  readonly shells: ReadonlySet<string>;
  readonly allow: readonly CompiledContainerRule[];
}

const compiled = new WeakMap<ContainersPolicy, CompiledContainerPolicy>();

export function compileContainerPolicy(section: ContainersPolicy): CompiledContainerPolicy {
  let policy = compiled.get(section);
  if (!policy) {
    policy = {
      packageManagers: new Set(section.package_managers),
      shells: new Set(section.shells),
      allow: section.allow.map((rule, index) => ({
        index,
        image: rule.image === undefined ? undefined : compileGlob(rule.image),
        container: rule.container === undefined ? undefined : compileGlob(rule.container),
        kinds: rule.kinds === undefined ? undefined : new Set(rule.kinds),
      })),
    };
    compiled.set(section, policy);
  }
  return policy;
}

/** `/usr/bin/npm install` → npm: the first word, without a directory or a trailing colon. */
function commandName(text: string): string {
  return basename(text.trim().split(/\s/)[0] ?? '').replace(/:$/, '');
}

/**
 * The names of strings that repeat from process to process and scrape to scrape (comm, argv[0],
 * executable path), computed once: a host's containers run the same few programs, and judging
 * them must not make garbage on every scrape. Bounded, like the processes judgment's own cache.
 */
const names = new Map<string, string>();

function nameOf(text: string, derive: (text: string) => string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = derive(text);
    if (names.size < 4096) names.set(text, name);
  }
  return name;
}

/** The name a process goes by in `wanted`: its comm, argv[0] or executable file name. */
function matchingName(p: ObservedProcess, exe: string, wanted: ReadonlySet<string>): string | undefined {
  if (wanted.size === 0) return undefined;
  const comm = nameOf(p.comm, commandName);
  if (wanted.has(comm)) return comm;
  const argv0 = nameOf(p.argv0, commandName);
  if (wanted.has(argv0)) return argv0;
  const file = nameOf(exe, basename);
  return wanted.has(file) ? file : undefined;
}

/** Whether an allow rule excepts this kind in this container: every selector the rule names must match. */
function excepted(kind: ContainerKind, identity: ContainerIdentity, policy: CompiledContainerPolicy): boolean {
  return policy.allow.some((rule) => {
    if (rule.kinds && !rule.kinds.has(kind)) return false;
    if (rule.image && (identity.image === undefined || !rule.image(identity.image))) return false;
    if (rule.container && (identity.name === undefined || !rule.container(identity.name))) return false;
    return true;
  });
}

/**
 * The container kinds of one process in a container, with why; undefined when none applies.
 * Without facts (its container could not be observed) nothing is judged here.
 */
export function judgeContainerProcess(
  p: ObservedProcess,
  exe: string,
  facts: ContainerFacts | undefined,
  policy: CompiledContainerPolicy,
): Partial<Record<ContainerKind, string>> | undefined {
  if (facts === undefined) return undefined;
  let reasons: Partial<Record<ContainerKind, string>> | undefined;
  const add = (kind: ContainerKind, reason: string) => {
    if (!excepted(kind, facts.identity, policy)) (reasons ??= {})[kind] = reason;
  };
  if (facts.executableLayer === 'writable_layer') {
    add(
      'container_drift',
      p.exe.kind === 'path' && p.exe.deleted
        ? `its executable ${exe} was written into the container after it started (its writable layer, not its image) and has been deleted since`
        : `its executable ${exe} is not from the container's image: it lies in the container's writable layer, written after the container started`,
    );
  }
  const manager = matchingName(p, exe, policy.packageManagers);
  if (manager !== undefined)
    add('container_package_manager', `the package manager ${manager} runs in a running container, changing it away from its image`);
  const shell = facts.standardInput === 'terminal' ? matchingName(p, exe, policy.shells) : undefined;
  if (shell !== undefined)
    add(
      'container_shell',
      `the shell ${shell} runs with a terminal on its standard input: someone is typing in the container (kubectl exec -it, docker exec -it)`,
    );
  return reasons;
}

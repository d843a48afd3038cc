import type { BaselineEntries, JsonValue } from '../baseline/baseline.js';
import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import { kernelKinds } from './kinds.js';

/**
 * The judgment of the running kernel against its baseline: modules loaded since, taint flags
 * gained since, security sysctls changed since. Pure: plain objects in, findings out.
 */
export interface KernelModuleSeen {
  readonly name: string;
  readonly size: number;
  readonly taint: string;
}

export interface KernelSnapshot {
  /** Undefined when the kernel has no loadable module support (no /proc/modules). */
  readonly modules: readonly KernelModuleSeen[] | undefined;
  readonly tainted: number | undefined;
  /** The policy's sysctls: value, or undefined when this kernel has no such sysctl. */
  readonly sysctls: ReadonlyMap<string, string | undefined>;
}

export interface KernelBaseline {
  /** Undefined when the baseline was learned without module support (or with modules off). */
  readonly modules: ReadonlySet<string> | undefined;
  readonly tainted: number | undefined;
  /** null: the sysctl did not exist when the baseline was learned. */
  readonly sysctls: ReadonlyMap<string, string | null>;
}

/** Taint flags by bit (Documentation/admin-guide/tainted-kernels.rst). */
const taintLetters = 'PFSRMBUDAWCIOELKXTN';
/** The flags that say something about modules or a user: what an intruder's module leaves behind. */
const judgedTaint = new Set(['P', 'F', 'R', 'U', 'C', 'O', 'E', 'K']);

export function taintFlags(mask: number): string {
  let out = '';
  for (let bit = 0; bit < taintLetters.length; bit++) if (Math.floor(mask / 2 ** bit) % 2 === 1) out += taintLetters[bit];
  return out;
}

export function judgeKernel(snapshot: KernelSnapshot, baseline: KernelBaseline | undefined): Finding[] {
  if (!baseline) return [];
  const findings: Finding[] = [];
  if (snapshot.modules && baseline.modules) {
    for (const module of snapshot.modules) {
      if (baseline.modules.has(module.name)) continue;
      const taint = module.taint ? `, taint ${module.taint}` : '';
      findings.push(
        finding(
          kernelKinds.module_loaded,
          { module: module.name },
          `kernel module ${module.name} (${module.size} bytes${taint}) is loaded and the baseline does not hold it`,
        ),
      );
    }
  }
  if (snapshot.tainted !== undefined && baseline.tainted !== undefined) {
    const before = new Set(taintFlags(baseline.tainted));
    const gained = [...taintFlags(snapshot.tainted)].filter((flag) => judgedTaint.has(flag) && !before.has(flag)).join('');
    if (gained) {
      findings.push(
        finding(
          kernelKinds.kernel_tainted,
          { flags: gained },
          `the kernel gained taint flags ${gained} since the baseline (tainted ${snapshot.tainted}, was ${baseline.tainted})`,
        ),
      );
    }
  }
  for (const [name, value] of snapshot.sysctls) {
    if (!baseline.sysctls.has(name)) continue; // listed after the baseline was learned: judged after `baseline update`
    const before = baseline.sysctls.get(name) ?? undefined;
    if (before === value) continue;
    findings.push(finding(kernelKinds.sysctl_changed, { name }, `sysctl ${name} is ${show(value)}, was ${show(before)} at the baseline`));
  }
  return findings;
}

function show(value: string | undefined): string {
  return value === undefined ? 'absent' : JSON.stringify(value);
}

/** What `baseline init` records: `modules` (that they were read), `module:NAME`, `tainted`, `sysctl:NAME`. */
export function learnKernel(snapshot: KernelSnapshot): BaselineEntries {
  const entries: BaselineEntries = {};
  if (snapshot.modules) entries['modules'] = { count: snapshot.modules.length };
  for (const module of snapshot.modules ?? []) entries[`module:${module.name}`] = { size: module.size };
  if (snapshot.tainted !== undefined) entries['tainted'] = { value: snapshot.tainted };
  for (const [name, value] of snapshot.sysctls) entries[`sysctl:${name}`] = { value: value ?? null };
  return entries;
}

/** The baseline's kernel section, read leniently: a malformed entry is skipped (and so judged as absent). */
export function kernelBaselineOf(section: BaselineEntries | undefined): KernelBaseline | undefined {
  if (!section) return undefined;
  const modules = new Set<string>();
  const sysctls = new Map<string, string | null>();
  let tainted: number | undefined;
  for (const [key, entry] of Object.entries(section)) {
    if (key.startsWith('module:')) modules.add(key.slice('module:'.length));
    else if (key === 'tainted') {
      const value = field(entry, 'value');
      if (typeof value === 'number') tainted = value;
    } else if (key.startsWith('sysctl:')) {
      const value = field(entry, 'value');
      if (typeof value === 'string' || value === null) sysctls.set(key.slice('sysctl:'.length), value);
    }
  }
  // Modules are judged only against a baseline that read them (`modules`): one learned with the
  // reading off, or on a kernel without module support, would make every module new.
  return { modules: Object.hasOwn(section, 'modules') ? modules : undefined, tainted, sysctls };
}

function field(entry: JsonValue | undefined, name: string): JsonValue | undefined {
  return entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? entry[name] : undefined;
}

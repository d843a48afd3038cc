import { readFileSync } from 'node:fs';

/**
 * The running kernel's own state: loaded modules (/proc/modules), the taint mask
 * (/proc/sys/kernel/tainted) and sysctls (/proc/sys/...). Parsers are pure; readers take the
 * procfs root (--path.procfs).
 */

/** One line of /proc/modules: `nf_tables 233472 0 - Live 0xffffffffc0a00000 (OE)`. */
export interface KernelModule {
  readonly name: string;
  readonly size: number;
  /** The module's own taint letters, `(OE)` at the end of its line: out of tree, unsigned. */
  readonly taint: string;
}

export function parseModules(text: string): KernelModule[] {
  const out: KernelModule[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || !/^[\w-]+$/.test(fields[0]!) || !/^\d+$/.test(fields[1]!)) continue;
    const taint = /\(([A-Z]+)\)\s*$/.exec(line)?.[1] ?? '';
    out.push({ name: fields[0]!, size: Number(fields[1]), taint });
  }
  return out;
}

/** The loaded modules, or undefined when the kernel has no loadable module support (no /proc/modules). */
export function readModules(procfs: string): KernelModule[] | undefined {
  try {
    return parseModules(readFileSync(`${procfs}/modules`, 'latin1'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** /proc/sys/kernel/tainted: a decimal bit mask; undefined for anything else. */
export function parseTainted(text: string): number | undefined {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

export function readTainted(procfs: string): number | undefined {
  try {
    return parseTainted(readFileSync(`${procfs}/sys/kernel/tainted`, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * The /proc/sys file of a sysctl name. Dots separate levels, as `sysctl` writes them; a name with
 * a slash is taken as a path already (for interface names with dots: net/ipv4/conf/eth0.100/rp_filter).
 */
export function sysctlFile(procfs: string, name: string): string {
  return `${procfs}/sys/${name.includes('/') ? name : name.replaceAll('.', '/')}`;
}

/** A sysctl's value with blanks collapsed (multi-value ones like kernel.printk), or undefined when this kernel has no such sysctl. */
export function readSysctl(procfs: string, name: string): string | undefined {
  try {
    return readFileSync(sysctlFile(procfs, name), 'latin1').trim().replace(/\s+/g, ' ');
  } catch {
    return undefined;
  }
}

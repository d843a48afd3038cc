import { canonicalJson, type BaselineEntries, type BaselineSections } from './baseline.js';

export interface SectionDiff {
  readonly section: string;
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

/** What replacing `before` with `after` changes, section by section; unchanged sections are left out. */
export function diffBaselines(before: BaselineSections, after: BaselineSections): SectionDiff[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .map((section) => diffSection(section, before[section] ?? {}, after[section] ?? {}))
    .filter((d) => d.added.length + d.removed.length + d.changed.length > 0);
}

function diffSection(section: string, before: BaselineEntries, after: BaselineEntries): SectionDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const key of Object.keys(after)) {
    const old = before[key];
    const now = after[key];
    if (old === undefined) added.push(key);
    else if (now !== undefined && canonicalJson(old) !== canonicalJson(now)) changed.push(key);
  }
  for (const key of Object.keys(before)) if (!(key in after)) removed.push(key);
  return { section, added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}

export function diffText(diffs: readonly SectionDiff[]): string {
  if (diffs.length === 0) return 'no changes\n';
  const lines: string[] = [];
  for (const d of diffs) {
    lines.push(`[${d.section}] ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed`);
    for (const key of d.added) lines.push(`+ ${key}`);
    for (const key of d.removed) lines.push(`- ${key}`);
    for (const key of d.changed) lines.push(`~ ${key}`);
  }
  return lines.join('\n') + '\n';
}

import { sectionCollectors, type PolicySection } from './policy-schema.js';

/** A section the policy file writes that no running collector reads, and why. */
export interface UnreadSection {
  readonly section: PolicySection;
  readonly collector: string;
  readonly reason: string;
}

/**
 * The sections of a policy file that are ignored because their collector does not run. `disabled`:
 * each collector that does not run, with the reason in flag terms (`--no-collector.ids`).
 * Pure, so `serve` can say it at start and on every reload.
 */
export function unreadSections(written: readonly PolicySection[], disabled: ReadonlyMap<string, string>): UnreadSection[] {
  return written.flatMap((section) => {
    const collector = sectionCollectors[section];
    const why = disabled.get(collector);
    return why === undefined ? [] : [{ section, collector, reason: `collector ${collector} is ${why}` }];
  });
}

/**
 * Every kind of finding is declared once, in its domain's `kinds.ts`, with `declareKinds`: its
 * severity, its meaning, and the alert rules that fire on it (or why none does). The judgment
 * builds findings from the declaration (`finding(spec, …)`), so a kind cannot be reported without
 * being declared; the collector's `findingKinds`, the metrics catalog (docs/metrics.md), the rule
 * generator (scripts/rules/) and test/unit/finding-kinds.test.ts read the same declarations.
 */
import type { Finding, FindingSubject, Severity } from './finding.js';

/** What a domain writes for one kind; `declareKinds` adds the collector and the kind's name. */
interface KindDeclaration {
  /** The severity of a finding of this kind, and of an alert about this kind alone unless it says otherwise. */
  readonly severity: Severity;
  /** Other severities a finding of this kind can take, each with when (for docs/metrics.md). */
  readonly otherSeverities?: Readonly<Partial<Record<Severity, string>>>;
  /** What it means, in the operator's words: docs/metrics.md prints it. */
  readonly description: string;
  /** The alert rules (rules/, from scripts/rules/) that fire on this kind, each with a runbook. */
  readonly alerts?: readonly string[];
  /** Instead of `alerts`: why no alert rule fires on this kind. */
  readonly noAlert?: string;
}

export interface FindingKindSpec<K extends string = string, S extends Severity = Severity> {
  readonly collector: string;
  readonly kind: K;
  readonly severity: Severity;
  /** The default severity first, then the others, in declaration order. */
  readonly severities: readonly S[];
  readonly otherSeverities: Readonly<Partial<Record<Severity, string>>>;
  readonly description: string;
  readonly alerts: readonly string[];
  readonly noAlert: string | undefined;
}

type SeveritiesOf<D extends KindDeclaration> =
  D['severity'] | (D extends { readonly otherSeverities: infer O } ? keyof O & Severity : never);

/** The declared kinds of one collector, by name. */
export type FindingKinds<D extends Record<string, KindDeclaration> = Record<string, KindDeclaration>> = {
  readonly [K in keyof D & string]: FindingKindSpec<K, SeveritiesOf<D[K]>>;
};

/**
 * Declare a collector's finding kinds, most severe first where the order matters (the processes
 * collector takes a process's first kind as its verdict). A kind must name its alerts or say why
 * it has none.
 */
export function declareKinds<const D extends Record<string, KindDeclaration>>(collector: string, declarations: D): FindingKinds<D> {
  const specs: Record<string, FindingKindSpec> = {};
  for (const [kind, d] of Object.entries(declarations)) {
    const alerts = d.alerts ?? [];
    if (alerts.length > 0 === (d.noAlert !== undefined)) {
      throw new Error(`finding kind ${collector}/${kind}: declare either the alerts that fire on it or why none does (noAlert), not both`);
    }
    const others = d.otherSeverities ?? {};
    specs[kind] = {
      collector,
      kind,
      severity: d.severity,
      severities: [d.severity, ...(Object.keys(others) as Severity[]).filter((s) => s !== d.severity)],
      otherSeverities: others,
      description: d.description,
      alerts,
      noAlert: d.noAlert,
    };
  }
  return specs as FindingKinds<D>;
}

/** The names of a collector's kinds, in declaration order: its `findingKinds`. */
export function kindNames<D extends Record<string, KindDeclaration>>(kinds: FindingKinds<D>): (keyof D & string)[] {
  return Object.keys(kinds);
}

/**
 * A finding of a declared kind. `severity` defaults to the declaration's and can only be one the
 * declaration names (`otherSeverities`).
 */
export function finding<K extends string, S extends Severity>(
  spec: FindingKindSpec<K, S>,
  subject: FindingSubject,
  message: string,
  severity?: NoInfer<S>,
): Finding {
  return { collector: spec.collector, kind: spec.kind, severity: severity ?? spec.severity, subject, message };
}

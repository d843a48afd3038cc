import type { Severity } from '../../src/findings/finding.js';

/**
 * Typed alerting and recording rules: scripts/rules/render.ts writes them as rules/*.yml. A line
 * break in `expr` (given as lines) or `description` is a line break in the file, which YAML's
 * folded style (`>-`) reads as a space.
 */
export interface AlertRule {
  readonly alert: string;
  /** Comment lines written above the rule. */
  readonly commentAbove?: readonly string[];
  /** Comment lines written inside the rule, before its expression. */
  readonly comment?: readonly string[];
  /** One line, or lines of a folded block; a function of the configuration where it selects the job. */
  readonly expr: Text;
  readonly for?: string;
  /**
   * Defaults from the finding kinds whose declaration names this alert (src/<domain>/kinds.ts)
   * when they agree; an alert about no kind, or about kinds of several severities, must say it.
   */
  readonly severity?: Severity;
  /**
   * The `collector` label, for Alertmanager's inhibition while that collector fails. Defaults to
   * the group's, then to the collector of the kinds the alert is about; `null`: no such label.
   */
  readonly collector?: string | null;
  readonly summary: string;
  /** Lines of a folded block. */
  readonly description: readonly string[] | ((config: RuleConfig) => readonly string[]);
}

export interface RecordingRule {
  readonly record: string;
  /** Comment lines written above the rule, after a blank line. */
  readonly commentAbove?: readonly string[];
  readonly expr: Text;
}

/** What an operator chooses when generating their own copy: `npm run rules -- --help`. */
export interface RuleConfig {
  /** The runbooks' address; an alert's runbook_url is `<base>/<AlertName>.md`. */
  readonly runbookUrlBase: string;
  /** The label matchers that select the exporter's targets among all `up` series: `job="hostguard"`. */
  readonly jobSelector: string;
  /** The fleet rules' thresholds (rules/hostguard-fleet.yml). */
  readonly fleet: FleetRuleConfig;
}

export interface FleetRuleConfig {
  /** K: a hash on at most this many hosts of a job is rare. */
  readonly rareHosts: number;
  /** M: rarity is judged only while at least this many hosts of the job report. */
  readonly minReportingHosts: number;
  /** A hash not seen on any host for this long is new again when it comes back. */
  readonly memorySeconds: number;
  /** How long HostGuardExecutableNewToFleet fires after a first sighting. */
  readonly newForSeconds: number;
}

/** One line, or the lines of a folded block (an array, even of one line). */
export type Text = string | readonly string[] | ((config: RuleConfig) => string | readonly string[]);

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  /** Comment lines written above the group. */
  readonly comment?: readonly string[];
  /** The `collector` label of the group's alerts, unless an alert says otherwise. */
  readonly collector?: string;
  readonly rules: ReadonlyArray<AlertRule | RecordingRule>;
}

export interface RuleFile {
  /** File name under rules/: hostguard-<name>.yml. */
  readonly file: string;
  /** Comment lines at the top of the file. */
  readonly header: readonly string[];
  readonly groups: readonly RuleGroup[];
}

export function isAlert(rule: AlertRule | RecordingRule): rule is AlertRule {
  return 'alert' in rule;
}

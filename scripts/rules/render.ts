import type { Severity } from '../../src/findings/finding.js';
import type { FindingKindSpec } from '../../src/findings/kinds.js';
import { metricCatalog } from '../../src/metrics/catalog.js';
import { anomalyRules } from './anomaly.js';
import { auditRules } from './audit.js';
import { authRules } from './auth.js';
import { containersRules } from './containers.js';
import { defaultRuleConfig, runbookUrl } from './config.js';
import { idsRules } from './ids.js';
import { integrityRules } from './integrity.js';
import { kernelRules } from './kernel.js';
import { networkRules } from './network.js';
import { fleetRules } from './fleet.js';
import { processesRules } from './processes.js';
import { isAlert, type AlertRule, type RecordingRule, type RuleConfig, type RuleFile, type RuleGroup, type Text } from './rule-types.js';
import { watcherRules } from './watcher.js';

/** Every rule file under rules/, in the order `npm run rules` writes them; some depend on the configuration. */
export function ruleFiles(config: RuleConfig): readonly RuleFile[] {
  return [
    anomalyRules,
    auditRules,
    authRules,
    containersRules,
    fleetRules(config),
    idsRules,
    integrityRules,
    kernelRules,
    networkRules,
    processesRules,
    watcherRules,
  ];
}

/** Every declared finding kind (src/<domain>/kinds.ts, gathered by the metrics catalog). */
export function declaredKinds(): FindingKindSpec[] {
  return metricCatalog.flatMap((group) => Object.values(group.kinds ?? {}));
}

/** File name → YAML text, as committed under rules/ with the default configuration. */
export function renderRules(config: RuleConfig = defaultRuleConfig): Record<string, string> {
  const kindsByAlert = new Map<string, FindingKindSpec[]>();
  for (const spec of declaredKinds()) for (const alert of spec.alerts) kindsByAlert.set(alert, [...(kindsByAlert.get(alert) ?? []), spec]);
  return Object.fromEntries(ruleFiles(config).map((file) => [file.file, renderFile(file, config, kindsByAlert)]));
}

function renderFile(file: RuleFile, config: RuleConfig, kindsByAlert: ReadonlyMap<string, readonly FindingKindSpec[]>): string {
  const lines = [
    `# Generated from scripts/rules/ by \`npm run rules\` (edit there, not here); a test fails when this file is stale.`,
    ...comments(file.header, 0),
    'groups:',
  ];
  for (const group of file.groups) {
    lines.push(...comments(group.comment ?? [], 2), `  - name: ${group.name}`);
    if (group.interval) lines.push(`    interval: ${group.interval}`);
    lines.push('    rules:');
    group.rules.forEach((rule, index) => {
      if (isAlert(rule)) lines.push(...(index > 0 ? [''] : []), ...alertLines(rule, group, config, kindsByAlert.get(rule.alert) ?? []));
      else lines.push(...recordLines(rule, config));
    });
  }
  return lines.join('\n') + '\n';
}

function recordLines(rule: RecordingRule, config: RuleConfig): string[] {
  const above = rule.commentAbove ? ['', ...comments(rule.commentAbove, 6)] : [];
  return [...above, `      - record: ${rule.record}`, ...scalar('expr', rule.expr, config, 8)];
}

function alertLines(rule: AlertRule, group: RuleGroup, config: RuleConfig, kinds: readonly FindingKindSpec[]): string[] {
  const collector = rule.collector === null ? undefined : (rule.collector ?? group.collector ?? commonCollector(kinds));
  return [
    ...comments(rule.commentAbove ?? [], 6),
    `      - alert: ${rule.alert}`,
    ...comments(rule.comment ?? [], 8),
    ...scalar('expr', rule.expr, config, 8),
    ...(rule.for ? [`        for: ${rule.for}`] : []),
    '        labels:',
    `          severity: ${severityOf(rule, kinds)}`,
    ...(collector ? [`          collector: ${collector}`] : []),
    '        annotations:',
    ...scalar('summary', rule.summary, config, 10),
    ...scalar('description', typeof rule.description === 'function' ? rule.description(config) : rule.description, config, 10),
    `          runbook_url: ${runbookUrl(config, rule.alert)}`,
  ];
}

/** An alert about kinds that agree on a severity takes it; any other alert must state its own. */
function severityOf(rule: AlertRule, kinds: readonly FindingKindSpec[]): Severity {
  if (rule.severity) return rule.severity;
  const declared = new Set(kinds.map((k) => k.severity));
  if (declared.size === 1) return [...declared][0]!;
  const why = kinds.length === 0 ? 'no finding kind names it' : `its kinds (${kinds.map((k) => k.kind).join(', ')}) differ in severity`;
  throw new Error(`alert ${rule.alert}: ${why}, so it must give its severity`);
}

function commonCollector(kinds: readonly FindingKindSpec[]): string | undefined {
  const collectors = new Set(kinds.map((k) => k.collector));
  return collectors.size === 1 ? [...collectors][0] : undefined;
}

function comments(text: readonly string[], indent: number): string[] {
  return text.map((line) => `${' '.repeat(indent)}#${line === '' ? '' : ` ${line}`}`);
}

/** `key: value` for one line, a folded block (`>-`) for lines. */
function scalar(key: string, text: Text, config: RuleConfig, indent: number): string[] {
  const value = typeof text === 'function' ? text(config) : text;
  const pad = ' '.repeat(indent);
  if (typeof value === 'string') return [`${pad}${key}: ${plain(value)}`];
  return [`${pad}${key}: >-`, ...value.map((line) => `${pad}  ${line}`)];
}

/** A plain scalar where YAML reads it as written, else a double-quoted one. */
function plain(value: string): string {
  const ambiguous = /^[\s{}[\]"'&*!|>%@`#,?:-]/.test(value) || /: | #|:$|\s$/.test(value) || value === '';
  return ambiguous ? JSON.stringify(value) : value;
}

import type { RuleConfig } from './rule-types.js';

/**
 * The defaults of `npm run rules`: the committed rules/*.yml are generated with them. An operator
 * who hosts the runbooks elsewhere, or scrapes the exporter under another job name, generates a
 * copy with `npm run rules -- --runbook-url-base URL --job-selector 'job="x"' --out DIR`.
 */
export const defaultRuleConfig: RuleConfig = {
  runbookUrlBase: 'https://github.com/hostguard-exporter/hostguard-exporter/blob/main/docs/runbooks',
  jobSelector: 'job="hostguard"',
  fleet: { rareHosts: 3, minReportingHosts: 10, memorySeconds: 7 * 86400, newForSeconds: 86400 },
};

/** The selector in a sentence: `job="hostguard"` → `in job "hostguard"`; anything else is quoted as is. */
export function jobInWords(jobSelector: string): string {
  const job = /^job="([^"\\]*)"$/.exec(jobSelector);
  return job ? `in job "${job[1]}"` : `matching {${jobSelector}}`;
}

export function runbookUrl(config: RuleConfig, alert: string): string {
  return `${config.runbookUrlBase.replace(/\/+$/, '')}/${alert}.md`;
}

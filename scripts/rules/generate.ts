// `npm run rules`: writes rules/*.yml from the typed definitions in this folder. The YAML is
// committed; a test fails when it is stale. Operators generate their own copy with options:
//   npm run rules -- --runbook-url-base https://wiki.example.org/runbooks --job-selector 'job="node-guard"' --out /etc/prometheus/rules
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRuleConfig } from './config.js';
import { renderRules } from './render.js';

const { values } = parseArgs({
  options: {
    'runbook-url-base': { type: 'string', default: defaultRuleConfig.runbookUrlBase },
    'job-selector': { type: 'string', default: defaultRuleConfig.jobSelector },
    'fleet-rare-hosts': { type: 'string', default: String(defaultRuleConfig.fleet.rareHosts) },
    'fleet-min-hosts': { type: 'string', default: String(defaultRuleConfig.fleet.minReportingHosts) },
    'fleet-memory': { type: 'string', default: String(defaultRuleConfig.fleet.memorySeconds) },
    'fleet-new-for': { type: 'string', default: String(defaultRuleConfig.fleet.newForSeconds) },
    out: { type: 'string', default: new URL('../../rules', import.meta.url).pathname },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run rules -- [--runbook-url-base URL] [--job-selector MATCHERS] [--out DIR]

  --runbook-url-base  where the runbooks are served; runbook_url is <URL>/<AlertName>.md
                      (default ${defaultRuleConfig.runbookUrlBase})
  --job-selector      label matchers that select the exporter's targets among the up series
                      (default ${defaultRuleConfig.jobSelector})
  --fleet-rare-hosts  K: a flagged hash on at most K hosts of a job is rare (default ${defaultRuleConfig.fleet.rareHosts})
  --fleet-min-hosts   M: rarity is judged only while at least M hosts report (default ${defaultRuleConfig.fleet.minReportingHosts})
  --fleet-memory      seconds a hash is remembered after it was last seen (default ${defaultRuleConfig.fleet.memorySeconds})
  --fleet-new-for     seconds HostGuardExecutableNewToFleet fires after a first sighting (default ${defaultRuleConfig.fleet.newForSeconds})
  --out               directory to write hostguard-*.yml into (default: rules/ of this checkout)`);
} else {
  const jobSelector = values['job-selector'];
  if (!/^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"/.test(jobSelector)) {
    console.error(`--job-selector ${JSON.stringify(jobSelector)} is not a label matcher such as job="hostguard"`);
    process.exit(2);
  }
  const count = (flag: 'fleet-rare-hosts' | 'fleet-min-hosts' | 'fleet-memory' | 'fleet-new-for'): number => {
    const value = Number(values[flag]);
    if (!Number.isInteger(value) || value < 1) {
      console.error(`--${flag} ${JSON.stringify(values[flag])} is not a whole number of at least 1`);
      process.exit(2);
    }
    return value;
  };
  const fleet = {
    rareHosts: count('fleet-rare-hosts'),
    minReportingHosts: count('fleet-min-hosts'),
    memorySeconds: count('fleet-memory'),
    newForSeconds: count('fleet-new-for'),
  };
  mkdirSync(values.out, { recursive: true });
  for (const [file, yaml] of Object.entries(renderRules({ runbookUrlBase: values['runbook-url-base'], jobSelector, fleet }))) {
    writeFileSync(join(values.out, file), yaml);
    console.log(join(values.out, file));
  }
}

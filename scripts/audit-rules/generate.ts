// `npm run rules:audit`: writes deploy/audit/hostguard-fim.rules from the embedded default policy.
// The file is committed; a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderFimRules } from './render.js';

const out = new URL('../../deploy/audit/hostguard-fim.rules', import.meta.url).pathname;
writeFileSync(out, renderFimRules());
console.log(`wrote ${out}`);

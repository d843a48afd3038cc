// `npm run dashboards`: writes grafana/dashboards/*.json from the typed definitions in this folder.
// The JSON is committed; a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderDashboards } from './render.js';

for (const [file, json] of Object.entries(renderDashboards())) {
  writeFileSync(new URL(`../../grafana/dashboards/${file}`, import.meta.url), json);
  console.log(`grafana/dashboards/${file}`);
}

import { hostDashboard } from './host.js';
import { overviewDashboard } from './overview.js';

/** File name → dashboard JSON, as committed under grafana/dashboards/. */
export function renderDashboards(): Record<string, string> {
  return {
    'hostguard-overview.json': JSON.stringify(overviewDashboard, null, 2) + '\n',
    'hostguard-host.json': JSON.stringify(hostDashboard, null, 2) + '\n',
  };
}

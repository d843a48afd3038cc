import type { Snapshot } from '../exporter.js';
import { compareFindings, findingKey, subjectText } from '../findings/finding.js';
import { redactFinding } from '../findings/redact.js';
import { escapeHtml } from './html.js';

export interface LandingPageInfo {
  readonly version: string;
  readonly telemetryPath: string;
  readonly policyOrigin: string;
  readonly baselineStatus: string;
}

/** The operator's page at `/`: what is wrong on this host right now, readable without Grafana. */
export function landingPage(info: LandingPageInfo, snapshot: Snapshot, showDetails: boolean): string {
  const { result, firstSeen } = snapshot;
  const findings = [...result.findings].sort(compareFindings);
  const collectorRows = result.outcomes
    .map(
      (o) =>
        `<tr><td>${escapeHtml(o.name)}</td><td class="${o.success ? 'ok' : 'bad'}">${o.success ? 'ok' : 'failed'}</td>` +
        `<td>${(o.durationSeconds * 1000).toFixed(1)} ms</td><td>${o.findings.length}</td><td>${escapeHtml(o.error ?? '')}</td></tr>`,
    )
    .join('\n');
  const findingRows = findings
    .map((full) => {
      // "Since" is keyed by the full finding; only what is shown is redacted.
      const since = firstSeen.get(findingKey(full));
      const f = showDetails ? full : redactFinding(full);
      return (
        `<tr class="${escapeHtml(f.severity)}"><td>${escapeHtml(f.severity)}</td><td>${escapeHtml(f.collector)}</td>` +
        `<td>${escapeHtml(f.kind)}</td><td>${escapeHtml(subjectText(f.subject))}</td><td>${escapeHtml(f.message)}</td>` +
        `<td>${since ? `<time datetime="${since.toISOString()}">${since.toISOString()}</time>` : ''}</td></tr>`
      );
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hostguard-exporter</title>
<link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.ok { color: #1b7f2a; } .bad, tr.critical td:first-child { color: #b00020; font-weight: bold; }
tr.warning td:first-child { color: #a65e00; }
</style>
</head>
<body>
<h1>hostguard-exporter</h1>
<p>Version ${escapeHtml(info.version)} · policy ${escapeHtml(info.policyOrigin)} · baseline ${escapeHtml(info.baselineStatus)} · collected ${result.at.toISOString()}</p>
<p><a href="${escapeHtml(info.telemetryPath)}">Metrics</a> · <a href="api/findings">Findings (JSON)</a> · <a href="healthz">Health</a></p>
<h2>Findings <span id="finding-count">${findings.length}</span></h2>
${
  findings.length === 0
    ? '<p id="no-findings">No findings: everything running, listening and installed is accounted for by the policy and baseline.</p>'
    : `<table id="findings">
<thead><tr><th>Severity</th><th>Collector</th><th>Kind</th><th>Subject</th><th>Message</th><th>Since</th></tr></thead>
<tbody>
${findingRows}
</tbody>
</table>`
}
<h2>Collectors</h2>
<table id="collectors">
<thead><tr><th>Collector</th><th>State</th><th>Duration</th><th>Findings</th><th>Error</th></tr></thead>
<tbody>
${collectorRows}
</tbody>
</table>
</body>
</html>
`;
}

import type { FindingKindSpec } from '../findings/kinds.js';
import { metricCatalog, standardMetricPrefixes } from './catalog.js';

/** docs/metrics.md: the contract between the exporter and rules/, grafana/ and operators' own queries. */
export function renderMetricsDoc(): string {
  const lines: string[] = [
    '# Metrics',
    '',
    '<!-- Generated from src/metrics/ by `npm run docs:metrics`; a test fails when this file is stale. -->',
    '',
    'Every metric hostguard-exporter exposes, with its type and labels. Label values are bounded: no PID,',
    'command line, remote address or user name is ever a label by default. Per-finding metrics (one series',
    'per subject) are capped by `--metrics.max-finding-series` (default 100); the totals never are, and',
    '`hostguard_finding_series_dropped{metric}` says how many subjects the cap left out.',
    '',
    'Conventions: base units (seconds, bytes), `_total` counters, `_info` metadata gauges with value 1,',
    '`_timestamp_seconds` for Unix times.',
    '',
  ];
  for (const group of metricCatalog) {
    lines.push(`## ${group.title}`, '', group.intro, '');
    lines.push('| Metric | Type | Labels | Help |', '|---|---|---|---|');
    for (const spec of Object.values(group.specs)) {
      const labels = Object.entries(spec.labels).map(([name, values]) => `\`${name}\`: ${values}`);
      const help = spec.notes ? `${spec.help} ${spec.notes}` : spec.help;
      lines.push(`| \`${spec.name}\` | ${spec.type} | ${cell(labels.join('<br>') || '—')} | ${cell(help)} |`);
    }
    lines.push('');
    const kinds = Object.values(group.kinds ?? {});
    if (kinds.length > 0) {
      lines.push(`Finding kinds (the \`kind\` label of \`hostguard_findings\`), declared in \`src/${kinds[0]!.collector}/kinds.ts\`:`, '');
      lines.push('| Kind | Severity | Meaning | Alerts |', '|---|---|---|---|');
      for (const spec of kinds) {
        lines.push(`| \`${spec.kind}\` | ${cell(severityText(spec))} | ${cell(spec.description)} | ${cell(alertsText(spec))} |`);
      }
      lines.push('');
    }
  }
  lines.push(
    '## Process',
    '',
    `The exporter's own cost, from prom-client's standard collectors: metrics starting with ${standardMetricPrefixes
      .map((p) => `\`${p}\``)
      .join(
        ' and ',
      )} (for example \`process_cpu_seconds_total\`, \`process_resident_memory_bytes\`, \`process_start_time_seconds\`, \`nodejs_eventloop_lag_seconds\`).`,
    '',
  );
  return lines.join('\n');
}

function severityText(spec: FindingKindSpec): string {
  const others = Object.entries(spec.otherSeverities).map(([severity, when]) => `${severity} ${when}`);
  return [spec.severity, ...others].join('; ');
}

function alertsText(spec: FindingKindSpec): string {
  if (spec.noAlert !== undefined) return `none: ${spec.noAlert}`;
  return spec.alerts.map((alert) => `[${alert}](runbooks/${alert}.md)`).join(', ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

import type { RuleFile } from './rule-types.js';
import { isAlert } from './rule-types.js';

/**
 * The docs/metrics.md section that lists the series the shipped recording rules write, so that an
 * operator who meets one on a dashboard or in an alert finds what it is and where it comes from.
 */
export function renderRecordedSeries(files: readonly RuleFile[]): string {
  const lines = [
    '',
    '## Recorded series',
    '',
    'Written by the recording rules in rules/ (named `level:metric:operations`, as the Prometheus',
    'naming practices ask), not by the exporter. Their meaning is in the comment above each rule.',
    '',
    '| Series | Rule file | Rule group |',
    '|---|---|---|',
  ];
  for (const file of files) {
    for (const group of file.groups) {
      for (const rule of group.rules) {
        if (!isAlert(rule)) lines.push(`| \`${rule.record}\` | [rules/${file.file}](../rules/${file.file}) | ${group.name} |`);
      }
    }
  }
  lines.push('');
  return lines.join('\n');
}

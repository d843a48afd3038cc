// Prints docs/metrics.md from the metric catalog and the recording rules: `npm run docs:metrics`.
import { renderMetricsDoc } from '../src/metrics/metrics-doc.js';
import { defaultRuleConfig } from './rules/config.js';
import { renderRecordedSeries } from './rules/recorded-series.js';
import { ruleFiles } from './rules/render.js';

process.stdout.write(renderMetricsDoc() + renderRecordedSeries(ruleFiles(defaultRuleConfig)));

// Prints docs/metrics.md from the metric catalog: `npm run docs:metrics`.
import { renderMetricsDoc } from '../src/metrics/metrics-doc.js';

process.stdout.write(renderMetricsDoc());

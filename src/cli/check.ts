import type { Command } from 'commander';
import type { BaselineState } from '../baseline/store.js';
import { presentFindings } from '../findings/redact.js';
import { findingsDocument, findingsTable } from '../findings/report.js';
import { exitCodes } from './exit-codes.js';
import { readGlobalOptions } from './options.js';
import { createCliLogger, createExporter } from './runtime.js';

/**
 * --collector.timeout's default for `check`: without background scans its collection is the
 * integrity scan itself, a full rehash of the watched trees that takes seconds to minutes on a real
 * host. A cron job needs an end, not a scrape's budget.
 */
const checkCollectorTimeoutMs = 5 * 60_000;

/** `check`: run every enabled collector once, print the findings, exit 0 / 1 / 2. For cron and CI. */
export async function runCheck(command: Command): Promise<number> {
  const options = readGlobalOptions(command);
  const format = command.opts<{ format: 'table' | 'json' }>().format;
  const log = createCliLogger(options);
  const exporter = createExporter({ ...options, collectorTimeoutMs: options.collectorTimeoutMs ?? checkCollectorTimeoutMs }, log);
  exporter.reportUnreadSections();
  if (exporter.baseline.current.status === 'missing') {
    log.warn('no baseline yet: judging by the policy alone; run `hostguard-exporter baseline init` to accept this host as known-good');
  }
  try {
    const { result } = await exporter.snapshot();
    const findings = presentFindings(result.findings, options.showFindingDetails);
    process.stdout.write(format === 'json' ? JSON.stringify(findingsDocument(findings), null, 2) + '\n' : findingsTable(findings));
    const failed = result.outcomes.filter((o) => !o.success);
    if (failed.length > 0) process.stderr.write(`check incomplete: ${failed.map((o) => `${o.name} (${o.error})`).join(', ')}\n`);
    const baselineProblem = unusableBaseline(exporter.baseline.current);
    if (baselineProblem) process.stderr.write(`check incomplete: ${baselineProblem}\n`);
    if (failed.length > 0 || baselineProblem) return exitCodes.error;
    return result.findings.length > 0 ? exitCodes.findings : exitCodes.ok;
  } finally {
    await exporter.stop();
  }
}

/**
 * A baseline that exists but does not verify leaves only the policy to judge by: a clean result
 * would hide exactly the host where someone edited the baseline. A missing one is only a warning.
 */
function unusableBaseline(state: BaselineState): string | undefined {
  if (state.status === 'missing' || state.status === 'verified') return undefined;
  return `baseline ${state.status} (${state.problem}); judged by the policy alone`;
}

import type { Command } from 'commander';
import { presentFindings } from '../findings/redact.js';
import { findingsDocument, findingsTable } from '../findings/report.js';
import { exitCodes } from './exit-codes.js';
import { readGlobalOptions } from './options.js';
import { createCliLogger, createExporter } from './runtime.js';

/** `check`: run every enabled collector once, print the findings, exit 0 / 1 / 2. For cron and CI. */
export async function runCheck(command: Command): Promise<number> {
  const options = readGlobalOptions(command);
  const format = command.opts<{ format: 'table' | 'json' }>().format;
  const log = createCliLogger(options);
  const exporter = createExporter(options, log);
  if (exporter.baseline.current.status === 'missing') {
    log.warn('no baseline yet: judging by the policy alone; run `hostguard-exporter baseline init` to accept this host as known-good');
  }
  try {
    const { result } = await exporter.snapshot();
    const findings = presentFindings(result.findings, options.showFindingDetails);
    process.stdout.write(format === 'json' ? JSON.stringify(findingsDocument(findings), null, 2) + '\n' : findingsTable(findings));
    const failed = result.outcomes.filter((o) => !o.success);
    if (failed.length > 0) {
      process.stderr.write(`check incomplete: ${failed.map((o) => `${o.name} (${o.error})`).join(', ')}\n`);
      return exitCodes.error;
    }
    return result.findings.length > 0 ? exitCodes.findings : exitCodes.ok;
  } finally {
    await exporter.stop();
  }
}

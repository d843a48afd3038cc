import type { Command } from 'commander';
import { entryCount } from '../baseline/baseline.js';
import { diffBaselines, diffText } from '../baseline/diff.js';
import { LearningTimeoutError } from '../collectors/collection.js';
import { historySection, readHistory, type HistoryRecord } from '../integrity/package-baseline.js';
import { exitCodes, UsageError } from './exit-codes.js';
import { readGlobalOptions } from './options.js';
import { createCliLogger, createExporter } from './runtime.js';

type Action = 'init' | 'update' | 'show' | 'diff';

/** `baseline init | update | show | diff`: the learned known-good state of this host. */
export async function runBaseline(action: Action, command: Command): Promise<number> {
  const options = readGlobalOptions(command);
  const flags = command.opts<{ force?: boolean; format: 'text' | 'json' }>();
  const log = createCliLogger(options);
  const exporter = createExporter(options, log);
  exporter.reportUnreadSections();
  const state = exporter.baseline.current;
  const out = (text: string) => process.stdout.write(text);
  const untouched =
    state.status === 'missing'
      ? `no baseline written to ${exporter.baseline.store.path}`
      : `the baseline at ${exporter.baseline.store.path} is unchanged`;
  try {
    switch (action) {
      case 'init': {
        if (state.status !== 'missing' && !flags.force) {
          throw new UsageError(
            `a baseline already exists at ${exporter.baseline.store.path}; use \`baseline update\` (or \`init --force\`)`,
          );
        }
        const body = await explainLearningTimeout(exporter.acceptCurrentState('operator'), untouched);
        out(`baseline written to ${exporter.baseline.store.path}: ${summary(entryCount(body))}\n`);
        return exitCodes.ok;
      }
      case 'update': {
        // Sections of disabled collectors are kept only from a baseline that verifies: updating an
        // untrusted one would drop them without a word (e.g. after adding --baseline.hmac-key-file).
        if (state.status === 'tampered' || state.status === 'corrupt' || state.status === 'unreadable') {
          throw new UsageError(
            `the baseline at ${exporter.baseline.store.path} does not verify (${state.status}: ${state.problem}); \`baseline init --force\` replaces it whole`,
          );
        }
        const body = await explainLearningTimeout(exporter.acceptCurrentState('operator'), untouched);
        out(`baseline updated at ${exporter.baseline.store.path}: ${summary(entryCount(body))}\n`);
        return exitCodes.ok;
      }
      case 'show': {
        if (state.status === 'missing') throw new UsageError(`no baseline at ${exporter.baseline.store.path}; run \`baseline init\``);
        if (state.status === 'unreadable' || state.status === 'corrupt')
          throw new UsageError(`${exporter.baseline.store.path}: ${state.problem}`);
        const verified = state.status === 'verified' ? (state.signed ? 'yes (SHA-256 and HMAC)' : 'yes (SHA-256)') : `NO: ${state.problem}`;
        if (flags.format === 'json') {
          out(JSON.stringify({ file: exporter.baseline.store.path, verified: state.status === 'verified', ...state.body }, null, 2) + '\n');
        } else {
          const b = state.body;
          out(
            [
              `file:     ${exporter.baseline.store.path}`,
              `host:     ${b.hostname}`,
              `created:  ${b.created_at}`,
              `updated:  ${b.updated_at}`,
              `origin:   ${b.origin}`,
              `verified: ${verified}`,
              `entries:  ${summary(entryCount(b))}`,
            ].join('\n') +
              '\n' +
              historyText(readHistory(b.sections[historySection]), 'accepted by the package database', 10),
          );
        }
        return state.status === 'verified' ? exitCodes.ok : exitCodes.error;
      }
      case 'diff': {
        const before = exporter.baseline.trustedSections ?? {};
        if (state.status !== 'verified') log.warn('no verified baseline: every current entry shows as added', { status: state.status });
        const learned = await explainLearningTimeout(exporter.learnSections(), 'nothing to compare');
        const diffs = diffBaselines(Object.fromEntries(Object.keys(learned).map((name) => [name, before[name] ?? {}])), learned);
        // What was accepted by itself since an operator (or the first start) last wrote the baseline.
        const since = exporter.baseline.body?.updated_at ?? '';
        const accepted = readHistory(before[historySection]).filter((r) => r.at > since);
        if (flags.format === 'json') out(JSON.stringify({ changes: diffs, accepted_by_package_database: accepted }, null, 2) + '\n');
        else out(diffText(diffs) + historyText(accepted, `accepted by the package database since ${since}`));
        return diffs.length > 0 ? exitCodes.findings : exitCodes.ok;
      }
    }
  } finally {
    await exporter.stop();
  }
}

/**
 * Learning that passed --baseline.timeout never reaches a write (the exporter throws before it):
 * one line naming the collector, the deadline, what was left alone and what the operator can do.
 */
async function explainLearningTimeout<T>(learning: Promise<T>, consequence: string): Promise<T> {
  try {
    return await learning;
  } catch (error) {
    if (!(error instanceof LearningTimeoutError)) throw error;
    throw new UsageError(
      `${error.message}; ${consequence}. A large watched tree may need a longer --baseline.timeout; a read that never returns (a dead network mount under a watched path) needs fixing or excluding`,
    );
  }
}

/** The accepted package changes, newest last: one line per package, one per path below it (at most `limit` packages). */
function historyText(records: readonly HistoryRecord[], title: string, limit = Infinity): string {
  if (records.length === 0) return '';
  const shown = records.slice(Math.max(0, records.length - limit));
  const lines = [
    `${title}: ${records.length} package change${records.length === 1 ? '' : 's'}${shown.length < records.length ? ` (last ${shown.length})` : ''}`,
  ];
  for (const r of shown) {
    const versions = [r.version_before, r.version_after].filter((v) => v !== undefined).join(' → ');
    lines.push(`  ${r.at}  ${r.package}  ${r.reason}${versions ? ` ${versions}` : ''}`);
    for (const [path, change] of Object.entries(r.paths))
      lines.push(`    ${change.change === 'added' ? '+' : change.change === 'removed' ? '-' : '~'} ${path}`);
  }
  return lines.join('\n') + '\n';
}

function summary(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([section, n]) => `${section} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'no sections (no enabled collector keeps a baseline)';
}

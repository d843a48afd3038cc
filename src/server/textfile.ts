import type { Exporter } from '../exporter.js';
import type { Logger } from '../log/logger.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { describeErrno } from '../state/state-dir.js';

/**
 * For hosts that already run node_exporter: write the exposition to a *.prom file for its textfile
 * collector, atomically (a temporary file it ignores, then rename). Only hostguard_* metrics are
 * written: the process_* and nodejs_* metrics describe this process and would collide with
 * node_exporter's own.
 */
export function startTextfileWriter(
  exporter: Exporter,
  path: string,
  intervalMs: number,
  log: Logger,
): { stop(): void; writeNow(): Promise<void> } {
  if (!path.endsWith('.prom'))
    log.warn("textfile path does not end in .prom: node_exporter's textfile collector will not read it", { path });
  let failing = false;
  const writeNow = async (): Promise<void> => {
    const { exposition } = await exporter.snapshot();
    try {
      writeFileAtomic(path, onlyHostguardMetrics(exposition), 0o644);
      if (failing) log.info('textfile written again', { path });
      failing = false;
    } catch (error) {
      if (!failing) log.error('cannot write the textfile; will retry', { path, err: describeErrno(error) });
      failing = true;
    }
  };
  const timer = setInterval(() => void writeNow(), intervalMs);
  return {
    writeNow,
    stop: () => clearInterval(timer),
  };
}

export function onlyHostguardMetrics(exposition: string): string {
  const keep: string[] = [];
  for (const line of exposition.split('\n')) {
    const name = line.startsWith('# ') ? line.split(' ')[2] : line.split(/[{ ]/)[0];
    if (name?.startsWith('hostguard_')) keep.push(line);
  }
  return keep.join('\n') + '\n';
}

import { readFileSync } from 'node:fs';
import { collectorDefinitions } from '../collectors/registry.js';
import { Exporter } from '../exporter.js';
import { createLogger, type Logger } from '../log/logger.js';
import { ensureStateDir, describeErrno } from '../state/state-dir.js';
import { buildInfo } from '../version.js';
import { UsageError } from './exit-codes.js';
import type { GlobalOptions } from './options.js';

export function createCliLogger(options: GlobalOptions): Logger {
  return createLogger({ level: options.logLevel, format: options.logFormat });
}

/** The exporter core as every subcommand builds it; PolicyError and StateDirError reach the caller. */
export function createExporter(options: GlobalOptions, log: Logger): Exporter {
  ensureStateDir(options.stateDir);
  return new Exporter({
    paths: { procfs: options.procfs, rootfs: options.rootfs, stateDir: options.stateDir },
    policyFile: options.configFile,
    collectors: collectorDefinitions.filter((d) => options.enabledCollectors.includes(d.name)),
    maxFindingSeries: options.maxFindingSeries,
    baselineKey: readKey(options.baselineKeyFile),
    collectorTimeoutMs: options.collectorTimeoutMs,
    baselineTimeoutMs: options.baselineTimeoutMs,
    disabledCollectors: options.disabledCollectors,
    log,
    build: buildInfo(),
  });
}

function readKey(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (error) {
    throw new UsageError(`--baseline.hmac-key-file ${file}: ${describeErrno(error)}`);
  }
  if (key.length < 16) throw new UsageError(`--baseline.hmac-key-file ${file}: a key needs at least 16 bytes, found ${key.length}`);
  return key;
}

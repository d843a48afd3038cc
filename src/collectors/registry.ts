import { auditCollector } from './audit.js';
import { authCollector } from './auth.js';
import type { CollectorDefinition } from './collector.js';
import { networkCollector } from './network.js';
import { processesCollector } from './processes.js';
import { integrityCollector } from './integrity.js';
import { kernelCollector } from './kernel.js';
import { idsCollector } from './ids.js';

/**
 * Every collector the exporter knows, in the order they run. Each is switched with
 * --collector.<name> / --no-collector.<name>; `defaultEnabled` is its state without flags.
 */
export const collectorDefinitions: readonly CollectorDefinition[] = [
  processesCollector,
  networkCollector,
  integrityCollector,
  kernelCollector,
  authCollector,
  idsCollector,
  auditCollector,
];

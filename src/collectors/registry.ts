import type { CollectorDefinition } from './collector.js';
import { integrityCollector } from './integrity.js';

/**
 * Every collector the exporter knows, in the order they run. Each is switched with
 * --collector.<name> / --no-collector.<name>; `defaultEnabled` is its state without flags.
 */
export const collectorDefinitions: readonly CollectorDefinition[] = [integrityCollector];

export function findCollector(name: string): CollectorDefinition | undefined {
  return collectorDefinitions.find((d) => d.name === name);
}

import { createServer } from 'node:http';
import type { CollectorDefinition } from '../../src/collectors/collector.js';
import { Exporter } from '../../src/exporter.js';
import { silentLogger } from '../../src/log/logger.js';
import { createApp } from '../../src/server/app.js';
import { WebConfigStore } from '../../src/server/web-config-store.js';
import { tempDir } from './cli.js';

export interface ServedExporter {
  readonly exporter: Exporter;
  /** http://127.0.0.1:PORT, no trailing slash. */
  readonly url: string;
  close(): void;
}

/** An Exporter with the given collectors behind the real HTTP app on a free loopback port, in this process. */
export async function serveExporter(options: {
  collectors: CollectorDefinition[];
  maxRequests: number;
  policyFile?: string;
  reloadable?: boolean;
}): Promise<ServedExporter> {
  const exporter = new Exporter({
    paths: { procfs: '/proc', rootfs: '/', stateDir: tempDir() },
    policyFile: options.policyFile,
    collectors: options.collectors,
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: '0', revision: 'test' },
  });
  const app = createApp({
    exporter,
    telemetryPath: '/metrics',
    maxRequests: options.maxRequests,
    version: '0',
    log: silentLogger,
    webConfig: new WebConfigStore(undefined, silentLogger),
    showFindingDetails: false,
    reload: options.reloadable ? () => exporter.reloadPolicy() : () => ({ ok: true, message: '' }),
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { exporter, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

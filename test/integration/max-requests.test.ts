import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { CollectorDefinition } from '../../src/collectors/collector.js';
import { Exporter } from '../../src/exporter.js';
import { silentLogger } from '../../src/log/logger.js';
import { createApp } from '../../src/server/app.js';
import { WebConfigStore } from '../../src/server/web-config-store.js';
import { tempDir } from '../helpers/cli.js';

/** A collector that takes half a second: the framework's behaviour under concurrent scrapes is the subject. */
const slow: CollectorDefinition = {
  name: 'slow',
  description: 'slow',
  defaultEnabled: true,
  create: () => ({
    name: 'slow',
    findingKinds: [],
    collect: () => new Promise((resolve) => setTimeout(() => resolve({ findings: [] }), 500)),
  }),
};

describe('--web.max-requests', () => {
  it('answers 503 at once beyond the limit of concurrent scrapes, and the admitted ones share one collection', async () => {
    let collections = 0;
    const counted: CollectorDefinition = { ...slow, create: (env) => ({ ...slow.create(env), collect: (ctx) => (collections++, slow.create(env).collect(ctx)) }) };
    const exporter = new Exporter({
      paths: { procfs: '/proc', rootfs: '/', stateDir: tempDir() },
      policyFile: undefined,
      collectors: [counted],
      maxFindingSeries: 100,
      log: silentLogger,
      build: { version: '0', revision: 'test' },
    });
    const app = createApp({
      exporter,
      telemetryPath: '/metrics',
      maxRequests: 2,
      version: '0',
      log: silentLogger,
      webConfig: new WebConfigStore(undefined, silentLogger),
      showFindingDetails: false,
      reload: () => ({ ok: true, message: '' }),
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
    try {
      const started = Date.now();
      const statuses = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const response = await fetch(url);
          await response.text();
          return { status: response.status, ms: Date.now() - started };
        }),
      );
      expect(statuses.filter((s) => s.status === 200)).toHaveLength(2);
      const refused = statuses.filter((s) => s.status === 503);
      expect(refused).toHaveLength(4);
      expect(Math.max(...refused.map((s) => s.ms))).toBeLessThan(400); // at once, not after the collection
      expect(collections).toBe(1);
      expect((await fetch(url)).status).toBe(200); // the limit frees up
    } finally {
      server.close();
    }
  });

  it('counts the findings page and /api/findings against the same limit: they collect like a scrape', async () => {
    const exporter = new Exporter({
      paths: { procfs: '/proc', rootfs: '/', stateDir: tempDir() },
      policyFile: undefined,
      collectors: [slow],
      maxFindingSeries: 100,
      log: silentLogger,
      build: { version: '0', revision: 'test' },
    });
    const app = createApp({
      exporter,
      telemetryPath: '/metrics',
      maxRequests: 1,
      version: '0',
      log: silentLogger,
      webConfig: new WebConfigStore(undefined, silentLogger),
      showFindingDetails: false,
      reload: () => ({ ok: true, message: '' }),
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const status = async (path: string) => {
      const response = await fetch(url + path);
      await response.text();
      return response.status;
    };
    try {
      for (const [first, second] of [
        ['/metrics', '/'],
        ['/metrics', '/api/findings'],
        ['/', '/metrics'],
        ['/api/findings', '/'],
      ]) {
        const admitted = status(first!);
        await new Promise((r) => setTimeout(r, 100)); // the first is collecting
        expect(await status(second!), `${second} while ${first} collects`).toBe(503);
        expect(await admitted).toBe(200);
      }
    } finally {
      server.close();
    }
  });
});

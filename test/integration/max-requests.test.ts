import { describe, expect, it } from 'vitest';
import type { CollectorDefinition } from '../../src/collectors/collector.js';
import { serveExporter } from '../helpers/app-server.js';

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
    const served = await serveExporter({ collectors: [counted], maxRequests: 2 });
    const url = `${served.url}/metrics`;
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
      served.close();
    }
  });

  it('counts the findings page and /api/findings against the same limit: they collect like a scrape', async () => {
    const served = await serveExporter({ collectors: [slow], maxRequests: 1 });
    const url = served.url;
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
      served.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { CollectorDefinition } from '../../src/collectors/collector.js';
import { serveExporter } from '../helpers/app-server.js';
import { eventually } from '../helpers/eventually.js';

/**
 * A collector that collects until the test lets it finish: the framework's behaviour under
 * concurrent scrapes is the subject, and which requests overlap is the test's choice, not the
 * machine's speed.
 */
function gated() {
  let collections = 0;
  let open = (): void => undefined;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const definition: CollectorDefinition = {
    name: 'gated',
    description: 'gated',
    defaultEnabled: true,
    create: () => ({
      name: 'gated',
      findingKinds: [],
      async collect() {
        collections++;
        await gate;
        return { findings: [] };
      },
    }),
  };
  return {
    definition,
    collections: () => collections,
    /** Let the collection in progress finish; the next one waits again. */
    release(): void {
      open();
      gate = new Promise<void>((resolve) => (open = resolve));
    },
  };
}

async function statusOf(url: string): Promise<number> {
  const response = await fetch(url);
  await response.text();
  return response.status;
}

describe('--web.max-requests', () => {
  it('answers 503 at once beyond the limit of concurrent scrapes, and the admitted ones share one collection', async () => {
    const collector = gated();
    const served = await serveExporter({ collectors: [collector.definition], maxRequests: 2 });
    const url = `${served.url}/metrics`;
    try {
      const answered: number[] = [];
      const requests = Array.from({ length: 6 }, () => statusOf(url).then((status) => (answered.push(status), status)));
      // At once, not after the collection: the four refusals arrive while it is still held.
      await eventually(() => answered.length === 4, { what: 'four answers while the collection is held' });
      expect(answered).toEqual([503, 503, 503, 503]);
      expect(collector.collections()).toBe(1);
      collector.release();
      expect((await Promise.all(requests)).sort()).toEqual([200, 200, 503, 503, 503, 503]);
      expect(collector.collections()).toBe(1);
      // The limit frees up.
      const next = statusOf(url);
      await eventually(() => collector.collections() === 2, { what: 'the next collection' });
      collector.release();
      expect(await next).toBe(200);
    } finally {
      served.close();
    }
  });

  it('counts the findings page and /api/findings against the same limit: they collect like a scrape', async () => {
    const collector = gated();
    const served = await serveExporter({ collectors: [collector.definition], maxRequests: 1 });
    try {
      for (const [first, second] of [
        ['/metrics', '/'],
        ['/metrics', '/api/findings'],
        ['/', '/metrics'],
        ['/api/findings', '/'],
      ]) {
        const collected = collector.collections();
        const admitted = statusOf(served.url + first!);
        await eventually(() => collector.collections() === collected + 1, { what: `${first} collecting` });
        expect(await statusOf(served.url + second!), `${second} while ${first} collects`).toBe(503);
        collector.release();
        expect(await admitted).toBe(200);
      }
    } finally {
      served.close();
    }
  });
});

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CollectorDefinition } from '../../src/collectors/collector.js';
import { Exporter } from '../../src/exporter.js';
import { silentLogger } from '../../src/log/logger.js';
import { createApp } from '../../src/server/app.js';
import { WebConfigStore } from '../../src/server/web-config-store.js';
import { tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';

/** Collectors whose reaction to a new policy is the subject: one cannot apply it, one records what it was told. */
function collectorsTold(told: string[]): CollectorDefinition[] {
  const make = (name: string, policyChanged: CollectorDefinition['create']) => ({ name, description: name, defaultEnabled: true, create: policyChanged });
  return [
    make('stubborn', () => ({
      name: 'stubborn',
      findingKinds: [],
      collect: async () => ({ findings: [] }),
      policyChanged: (ctx) => {
        if (ctx.policy.processes.allow.length > 0) throw new Error('cannot restart the watcher');
      },
    })),
    make('willing', () => ({
      name: 'willing',
      findingKinds: [],
      collect: async () => ({ findings: [] }),
      policyChanged: (ctx) => told.push(ctx.policy.processes.allow.map((r) => r.exe).join(',') || '(none)'),
    })),
  ];
}

describe('a policy reload that a collector cannot apply', () => {
  it('is refused: every collector is told and goes back to the running policy, POST /-/reload answers 500, the metric says 0', async () => {
    const policyFile = join(tempDir(), 'policy.yml');
    writeFileSync(policyFile, 'processes: {}\n');
    const told: string[] = [];
    const exporter = new Exporter({
      paths: { procfs: '/proc', rootfs: '/', stateDir: tempDir() },
      policyFile,
      collectors: collectorsTold(told),
      maxFindingSeries: 100,
      log: silentLogger,
      build: { version: '0', revision: 'test' },
    });
    const app = createApp({
      exporter,
      telemetryPath: '/metrics',
      maxRequests: 0,
      version: '0',
      log: silentLogger,
      webConfig: new WebConfigStore(undefined, silentLogger),
      showFindingDetails: false,
      reload: () => exporter.reloadPolicy(),
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const reloadLastOk = async () => sampleValue(await (await fetch(`${url}/metrics`)).text(), 'hostguard_config_last_reload_successful');
    try {
      writeFileSync(policyFile, 'processes:\n  allow:\n    - exe: /usr/bin/new\n');
      const refused = await fetch(`${url}/-/reload`, { method: 'POST' });
      expect(refused.status).toBe(500);
      expect(await refused.text()).toBe('reload failed, running policy kept: collector could not apply it (stubborn: cannot restart the watcher)\n');
      expect(told).toEqual(['/usr/bin/new', '(none)']); // told of the new policy after stubborn failed, then of the running one
      expect(exporter.policy.current.policy.processes.allow).toEqual([]);
      expect(await reloadLastOk()).toBe(0);

      writeFileSync(policyFile, 'processes: {}\n');
      const accepted = await fetch(`${url}/-/reload`, { method: 'POST' });
      expect(accepted.status).toBe(200);
      expect(await reloadLastOk()).toBe(1);
    } finally {
      server.close();
    }
  });
});

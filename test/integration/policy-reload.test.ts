import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CollectorDefinition } from '../../src/collectors/collector.js';
import { serveExporter } from '../helpers/app-server.js';
import { tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';

/** Collectors whose reaction to a new policy is the subject: one cannot apply it, one records what it was told. */
function collectorsTold(told: string[]): CollectorDefinition[] {
  const make = (name: string, policyChanged: CollectorDefinition['create']) => ({
    name,
    description: name,
    defaultEnabled: true,
    create: policyChanged,
  });
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
    const { exporter, url, close } = await serveExporter({
      collectors: collectorsTold(told),
      maxRequests: 0,
      policyFile,
      reloadable: true,
    });
    const reloadLastOk = async () => sampleValue(await (await fetch(`${url}/metrics`)).text(), 'hostguard_config_last_reload_successful');
    try {
      writeFileSync(policyFile, 'processes:\n  allow:\n    - exe: /usr/bin/new\n');
      const refused = await fetch(`${url}/-/reload`, { method: 'POST' });
      expect(refused.status).toBe(500);
      expect(await refused.text()).toBe(
        'reload failed, running policy kept: collector could not apply it (stubborn: cannot restart the watcher)\n',
      );
      expect(told).toEqual(['/usr/bin/new', '(none)']); // told of the new policy after stubborn failed, then of the running one
      expect(exporter.policy.current.policy.processes.allow).toEqual([]);
      expect(await reloadLastOk()).toBe(0);

      writeFileSync(policyFile, 'processes: {}\n');
      const accepted = await fetch(`${url}/-/reload`, { method: 'POST' });
      expect(accepted.status).toBe(200);
      expect(await reloadLastOk()).toBe(1);
    } finally {
      close();
    }
  });
});

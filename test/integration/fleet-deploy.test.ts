import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

const fleet = join(repoRoot, 'deploy', 'fleet');
const promtool = (args: string[]) => spawnSync(requireTool('promtool', 'prometheus'), args, { encoding: 'utf8' });

/**
 * The example configuration for a fleet (docs/scale.md). Prometheus' own files are checked with
 * promtool; Thanos and Mimir ship their checkers with their binaries, which neither Debian 12 nor
 * npm offers, so their files are only parsed here and hold the keys the documentation relies on.
 */
describe('fleet deployment examples', () => {
  it.each(['prometheus-agent.yml', 'thanos/prometheus-agent.yml', 'mimir/prometheus-agent.yml'])(
    '%s passes promtool check config --agent',
    (file) => {
      const result = promtool(['check', 'config', '--agent', join(fleet, file)]);
      expect(result.status, result.stdout + result.stderr).toBe(0);
      const config = load(readFileSync(join(fleet, file), 'utf8')) as {
        scrape_configs: Array<{ job_name: string }>;
        remote_write: unknown[];
      };
      expect(config.scrape_configs.map((s) => s.job_name)).toEqual(['hostguard']);
      expect(config.remote_write).toHaveLength(1);
    },
  );

  it('the central Prometheus loads every shipped rule file, the fleet rules among them', () => {
    const result = promtool(['check', 'config', join(fleet, 'prometheus-central.yml')]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/hostguard-fleet\.yml\n\s+SUCCESS: 9 rules found/);
  });

  it('the Thanos and Mimir files parse and say where the rules and the fleet go', () => {
    const hashrings = JSON.parse(readFileSync(join(fleet, 'thanos', 'hashrings.json'), 'utf8')) as Array<{ endpoints: string[] }>;
    expect(hashrings[0]!.endpoints.length).toBeGreaterThan(0);
    for (const file of ['objstore.yml', 'alertmanagers.yml', 'query-endpoints.yml'])
      expect(load(readFileSync(join(fleet, 'thanos', file), 'utf8'))).toBeTruthy();
    const mimir = load(readFileSync(join(fleet, 'mimir', 'mimir.yml'), 'utf8')) as {
      ruler_storage: { local: { directory: string } };
      limits: { max_global_series_per_user: number };
    };
    expect(mimir.ruler_storage.local.directory).toBe('/etc/mimir/rules');
    expect(mimir.limits.max_global_series_per_user).toBeGreaterThan(150_000);
  });
});

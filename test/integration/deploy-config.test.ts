import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

const alertmanagerConfig = join(repoRoot, 'deploy', 'alertmanager.yml');

function amtool(args: string[]) {
  return spawnSync(requireTool('amtool', 'prometheus-alertmanager'), args, { encoding: 'utf8' });
}

describe('example Prometheus and Alertmanager configuration', () => {
  it('deploy/alertmanager.yml passes amtool check-config', () => {
    const result = amtool(['check-config', alertmanagerConfig]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it.each([
    ['critical', 'page'],
    ['warning', 'ticket'],
    ['info', 'null'],
  ])('routes severity=%s to the %s receiver', (severity, receiver) => {
    const result = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${alertmanagerConfig}`,
      `severity=${severity}`,
      'alertname=HostGuardUnknownProcess',
    ]);
    expect(result.stdout.trim()).toBe(receiver);
  });

  it('deploy/prometheus.yml and the rules it loads pass promtool check config', () => {
    const result = spawnSync(requireTool('promtool', 'prometheus'), ['check', 'config', join(repoRoot, 'deploy', 'prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS: \d+ rule files found/);
  });
});

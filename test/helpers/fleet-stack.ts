import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitReady } from './monitoring-stack.js';
import { spawnForFile } from './processes.js';
import { requireTool } from './tools.js';

/**
 * The Prometheus side of a fleet, on loopback, with the Debian `prometheus` binary (2.42): agents
 * (`--enable-feature=agent`, which 3.x spells `--agent`) that scrape their share of the exporters
 * and remote-write everything to a central server with the receiver on
 * (`--web.enable-remote-write-receiver`), which evaluates the rules. The shape of
 * deploy/fleet/prometheus-agent.yml and deploy/fleet/prometheus-central.yml, at 1 s intervals.
 */

export interface PrometheusServer {
  readonly child: ChildProcess;
  readonly url: string;
}

export interface ActiveAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

/** The central Prometheus: receives remote writes, evaluates `ruleFiles` every second. */
export async function startCentral(dir: string, ruleFiles: readonly string[]): Promise<PrometheusServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    ['global:', '  evaluation_interval: 1s', 'rule_files:', ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`), ''].join('\n'),
  );
  const child = spawnForFile(requireTool('prometheus', 'prometheus'), [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/-/ready`, child, 60_000);
  return { child, url };
}

/** An agent: scrapes `targets` as job "hostguard" every second and remote-writes to the central one, labeled agent=`name`. */
export async function startAgent(dir: string, name: string, targets: readonly string[], centralUrl: string): Promise<PrometheusServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      `  external_labels: { agent: ${JSON.stringify(name)} }`,
      'scrape_configs:',
      '  - job_name: hostguard',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      'remote_write:',
      `  - url: ${JSON.stringify(`${centralUrl}/api/v1/write`)}`,
      '    queue_config: { batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }',
      '',
    ].join('\n'),
  );
  const child = spawnForFile(requireTool('prometheus', 'prometheus'), [
    '--enable-feature=agent',
    `--config.file=${config}`,
    `--storage.agent.path=${join(dir, 'wal')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/-/ready`, child, 60_000);
  return { child, url };
}

export async function instantQuery(
  server: PrometheusServer,
  expr: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`${server.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  return body.data.result;
}

/** Alerts the server's rules hold now, pending (waiting out `for`) or firing. */
export async function activeAlerts(server: PrometheusServer): Promise<ActiveAlert[]> {
  const body = (await (await fetch(`${server.url}/api/v1/alerts`)).json()) as { data: { alerts: ActiveAlert[] } };
  return body.data.alerts;
}

/** When the server last evaluated the named rule group: a clock made of evaluations, not of seconds. */
export async function lastEvaluation(server: PrometheusServer, group: string): Promise<string> {
  const body = (await (await fetch(`${server.url}/api/v1/rules`)).json()) as {
    data: { groups: Array<{ name: string; lastEvaluation: string }> };
  };
  return body.data.groups.find((g) => g.name === group)?.lastEvaluation ?? '';
}

import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { eventually } from './eventually.js';
import { spawnForFile } from './processes.js';
import { requireTool } from './tools.js';

/** A free TCP port on loopback, for servers that cannot report the port they bound (Prometheus, Alertmanager). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
}

/** Alertmanager's webhook receiver, inside the test: records every alert of every notification with its arrival time. */
export class WebhookReceiver {
  /** Every alert received, with when and on which path (the receiver: /page, /ticket). */
  readonly received: Array<WebhookAlert & { receivedAt: number; path: string }> = [];
  private server: Server | undefined;
  private waiters: Array<() => void> = [];
  url = '';

  async start(): Promise<void> {
    this.server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const notification = JSON.parse(body) as { alerts: WebhookAlert[] };
        for (const alert of notification.alerts) this.received.push({ ...alert, receivedAt: Date.now(), path: req.url ?? '' });
        for (const wake of this.waiters.splice(0)) wake();
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/alerts`;
  }

  /** The first alert received after `since` that matches, or an error naming what did arrive. */
  async waitFor(
    match: (alert: WebhookAlert) => boolean,
    timeoutMs: number,
    since = 0,
  ): Promise<WebhookAlert & { receivedAt: number; path: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((a) => a.receivedAt >= since && match(a));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.received.map((a) => `${a.path} ${a.status} ${a.labels.alertname} ${JSON.stringify(a.labels)}`).join('\n  ');
        throw new Error(`no matching alert within ${timeoutMs} ms; received:\n  ${seen || '(nothing)'}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface RunningService {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Poll `url` until it answers 2xx; an exit of `child` before that fails at once, with its stderr. */
export async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const outcome = await eventually(
    async () => {
      if (child.exitCode !== null) return 'exited';
      return (await fetch(url)).ok && 'ready';
    },
    { timeoutMs, intervalMs: 100, what: `${url} ready` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}:\n${output}`);
  });
  if (outcome === 'exited') throw new Error(`${url}: process exited with ${child.exitCode}:\n${output}`);
}

export interface ScrapeTarget {
  readonly job: string;
  readonly address: string;
}

export interface RunningPrometheus extends RunningService {
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** Write a new target list and reload (Prometheus runs with --web.enable-lifecycle). */
  setTargets(targets: readonly ScrapeTarget[]): Promise<void>;
}

/** The real Prometheus (Debian prometheus): 1 s scrape (unless told) and evaluation, the given rule files, alerts to Alertmanager. */
export async function startPrometheus(options: {
  dir: string;
  targets: readonly ScrapeTarget[];
  ruleFiles: readonly string[];
  alertmanagerUrl?: string;
  /** Scrape interval, and timeout with it (1 s by default; evaluation stays at 1 s). */
  scrapeInterval?: string;
}): Promise<RunningPrometheus> {
  const binary = requireTool('prometheus', 'prometheus');
  const port = await freePort();
  const config = join(options.dir, 'prometheus.yml');
  const writeConfig = (targets: readonly ScrapeTarget[]) => {
    const jobs = [...new Set(targets.map((t) => t.job))];
    const interval = options.scrapeInterval ?? '1s';
    const lines = [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      '  evaluation_interval: 1s',
      'rule_files:',
    ];
    for (const file of options.ruleFiles) lines.push(`  - ${JSON.stringify(file)}`);
    if (options.alertmanagerUrl) {
      lines.push(
        'alerting:',
        '  alertmanagers:',
        '    - static_configs:',
        `        - targets: [${JSON.stringify(new URL(options.alertmanagerUrl).host)}]`,
      );
    }
    lines.push('scrape_configs:');
    for (const job of jobs) {
      const addresses = targets.filter((t) => t.job === job).map((t) => JSON.stringify(t.address));
      lines.push(`  - job_name: ${job}`, '    static_configs:', `      - targets: [${addresses.join(', ')}]`);
    }
    writeFileSync(config, lines.join('\n') + '\n');
  };
  writeConfig(options.targets);
  const child = spawnForFile(binary, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(options.dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/-/ready`, child, 60_000);
  return {
    child,
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
      return body.data.result;
    },
    async setTargets(targets) {
      writeConfig(targets);
      const response = await fetch(`${url}/-/reload`, { method: 'POST' });
      if (!response.ok) throw new Error(`Prometheus reload failed: ${await response.text()}`);
    },
  };
}

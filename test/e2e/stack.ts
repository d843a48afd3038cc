import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { repoRoot, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { freePort, startPrometheus, WebhookReceiver, type RunningPrometheus, type RunningService } from '../helpers/monitoring-stack.js';
import { spawnForFile, stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

interface AlertmanagerConfig {
  route: { group_wait?: string; group_interval?: string; [key: string]: unknown };
  receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; send_resolved?: boolean }> }>;
  [key: string]: unknown;
}

/**
 * The shipped deploy/alertmanager.yml with its webhooks pointed at the test's receiver
 * (/page, /ticket) and groups sent at once: routing and inhibition are the real ones.
 */
export function alertmanagerConfigFor(webhookUrl: string): string {
  const config = load(readFileSync(join(repoRoot, 'deploy', 'alertmanager.yml'), 'utf8')) as AlertmanagerConfig;
  config.route.group_wait = '1s';
  config.route.group_interval = '1s';
  for (const receiver of config.receivers) {
    for (const hook of receiver.webhook_configs ?? []) hook.url = `${webhookUrl}/${receiver.name}`;
  }
  return dump(config);
}

export interface Stack {
  readonly webhook: WebhookReceiver;
  readonly alertmanager: RunningService;
  readonly prometheus: RunningPrometheus;
  exporter: RunningExporter;
  readonly exporterPort: number;
  readonly exporterArgs: readonly string[];
  /**
   * A second exporter in the same job, on its own quiet test host (the auth collector on an empty
   * log): the one a test kills to see HostGuardExporterDown, while the first keeps scraping.
   */
  spare?: RunningExporter;
  readonly sparePort?: number;
  readonly dir: string;
  /** (Re)start the exporter on its fixed port, so Prometheus keeps the same target. */
  startExporter(): Promise<RunningExporter>;
  stopExporter(signal?: NodeJS.Signals): Promise<void>;
  /** (Re)start the spare exporter on its fixed port. */
  startSpare(): Promise<RunningExporter>;
  stopSpare(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Exporter (and a spare one in the same job), real Prometheus (1 s scrape and evaluation, rules/) and
 * real Alertmanager, all on loopback.
 */
export async function startStack(
  exporterArgs: readonly string[],
  options: { spare?: boolean; scrapeInterval?: string } = {},
): Promise<Stack> {
  const dir = tempDir('hostguard-e2e-');
  const webhook = new WebhookReceiver();
  await webhook.start();
  const alertmanagerBinary = requireTool('prometheus-alertmanager', 'prometheus-alertmanager');
  const alertmanagerPort = await freePort();
  writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfigFor(webhook.url.replace(/\/alerts$/, '')));
  const alertmanagerChild = spawnForFile(alertmanagerBinary, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'alertmanager-data')}`,
    `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
    '--cluster.listen-address=',
  ]);
  const alertmanager = { child: alertmanagerChild, url: `http://127.0.0.1:${alertmanagerPort}` };
  const exporterPort = await freePort();
  const sparePort = options.spare ? await freePort() : undefined;
  const spareArgs = sparePort ? testHost().exporterArgs(['auth']) : [];
  const ruleFiles = readdirSync(join(repoRoot, 'rules'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(repoRoot, 'rules', f));
  const prometheus = await startPrometheus({
    dir,
    targets: [exporterPort, ...(sparePort ? [sparePort] : [])].map((port) => ({ job: 'hostguard', address: `127.0.0.1:${port}` })),
    ruleFiles,
    alertmanagerUrl: alertmanager.url,
    scrapeInterval: options.scrapeInterval,
  });
  const start = () => startExporter(exporterArgs, { port: exporterPort, spawn: spawnForFile });
  const startSpare = () => {
    if (!sparePort) throw new Error('this stack was started without a spare exporter');
    return startExporter(spareArgs, { port: sparePort, spawn: spawnForFile });
  };
  const stack: Stack = {
    webhook,
    alertmanager,
    prometheus,
    exporter: await start(),
    exporterPort,
    exporterArgs,
    spare: sparePort ? await startSpare() : undefined,
    sparePort,
    dir,
    async startExporter() {
      stack.exporter = await start();
      return stack.exporter;
    },
    async stopExporter(signal = 'SIGKILL') {
      await stopProcess(stack.exporter.child, signal);
    },
    async startSpare() {
      stack.spare = await startSpare();
      return stack.spare;
    },
    async stopSpare(signal = 'SIGKILL') {
      if (stack.spare) await stopProcess(stack.spare.child, signal);
    },
    async stop() {
      await stopProcess(stack.exporter.child);
      if (stack.spare) await stopProcess(stack.spare.child);
      await stopProcess(prometheus.child);
      await stopProcess(alertmanagerChild);
      await webhook.stop();
    },
  };
  return stack;
}

export interface TestHost {
  readonly dir: string;
  /** An auth log the exporter follows. */
  readonly authLog: string;
  /** A file in the watched set, learned into the baseline at start. */
  readonly watchedFile: string;
  readonly policy: string;
  /** Exporter arguments: this host's state directory and policy, and only the given collectors. */
  exporterArgs(collectors: readonly string[]): string[];
}

/**
 * A test host's files and policy for the end-to-end tests: an auth log, a watched directory
 * scanned every 2 seconds, and the one deliberate exception this VM needs (its supervisor runs from
 * a sealed memfd, as an operator would write it). `extra` adds policy sections.
 */
export function testHost(extra: readonly string[] = []): TestHost {
  const dir = tempDir('hostguard-e2e-host-');
  const authLog = join(dir, 'auth.log');
  writeFileSync(authLog, '');
  mkdirSync(join(dir, 'etc'));
  const watchedFile = join(dir, 'etc', 'app.conf');
  writeFileSync(watchedFile, 'listen_port=8080\nadmin=alice\n');
  const policy = join(dir, 'policy.yml');
  writeFileSync(
    policy,
    [
      'processes:',
      '  writable_locations:',
      '    except: ["/memfd:sealed-*"]',
      'integrity:',
      `  paths: [${JSON.stringify(join(dir, 'etc'))}]`,
      '  schedule: "*/2 * * * * *"',
      'auth:',
      '  sources:',
      '    - type: file',
      `      path: ${authLog}`,
      ...extra,
      '',
    ].join('\n'),
  );
  return {
    dir,
    authLog,
    watchedFile,
    policy,
    exporterArgs: (collectors) => [
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      ...collectors.map((c) => `--collector.${c}`),
    ],
  };
}

import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Command } from 'commander';
import { LearningError, type LearningTimeoutError } from '../collectors/collection.js';
import type { Exporter } from '../exporter.js';
import type { Logger } from '../log/logger.js';
import { reportPrivileges } from './privileges-report.js';
import { createApp } from '../server/app.js';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../server/listen-address.js';
import { startTextfileWriter } from '../server/textfile.js';
import type { TlsSettings } from '../server/web-config.js';
import { WebConfigStore } from '../server/web-config-store.js';
import { describeErrno } from '../state/state-dir.js';
import { buildInfo } from '../version.js';
import { ListenError, UsageError } from './exit-codes.js';
import { readGlobalOptions } from './options.js';
import { ServeSignals } from './serve-signals.js';
import { createCliLogger, createExporter } from './runtime.js';

/** `serve` (the default): learn a baseline if there is none, start background work, serve HTTP until signalled. */
export async function runServe(command: Command): Promise<number> {
  const options = readGlobalOptions(command);
  const addresses = options.listenAddresses.map((a) => {
    try {
      return parseListenAddress(a);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  });
  if (options.webDisabled && !options.textfilePath)
    throw new UsageError('--web.disable needs --textfile.path: otherwise the metrics go nowhere');
  const log = createCliLogger(options);
  const webConfig = new WebConfigStore(options.webConfigFile, log);
  const build = buildInfo();
  // Policy and state dir are checked first, so a bad one is the only line printed.
  const exporter = createExporter(options, log);
  log.info('starting hostguard-exporter', { version: build.version, revision: build.revision, node: process.version });
  log.info('policy loaded', { policy: exporter.policy.current.origin, collectors: options.enabledCollectors.join(',') || '(none)' });
  reportPrivileges(log);
  exporter.reportUnreadSections();
  const reload = () => exporter.reloadPolicy();
  const signals = new ServeSignals(reload, log);
  const servers: Server[] = [];
  let textfile: ReturnType<typeof startTextfileWriter> | undefined;
  const stopped = signals.stopRequested.then(async (signal) => {
    log.info('shutting down', { signal });
    textfile?.stop();
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
    }
    await stopWithin(exporter, shutdownGraceMs, log);
    return exitAfterStuckReads(exporter, signal, log);
  });
  // A stop while learning ends serve at once; the baseline is written atomically or not at all.
  const learning = learnOnFirstStart(exporter, log).then(() => 'learned' as const);
  if ((await Promise.race([learning, signals.stopRequested])) !== 'learned') {
    learning.catch(() => undefined);
    return stopped;
  }
  await exporter.start();
  signals.started();

  const app = createApp({
    exporter,
    telemetryPath: options.telemetryPath,
    maxRequests: options.maxRequests,
    version: build.version,
    log,
    webConfig,
    showFindingDetails: options.showFindingDetails,
    reload,
  });
  textfile = options.textfilePath ? startTextfileWriter(exporter, options.textfilePath, options.textfileIntervalMs, log) : undefined;
  if (textfile) {
    await textfile.writeNow();
    log.info('writing metrics to the textfile', { path: options.textfilePath, interval_ms: options.textfileIntervalMs });
  }
  if (options.webDisabled) return stopped;
  try {
    for (const address of addresses) servers.push(await listen(app, address, webConfig, log));
  } catch (error) {
    for (const s of servers) s.close();
    await exporter.stop();
    throw error;
  }
  return stopped;
}

/**
 * How long a stop may take: collectors save their state (log positions) and end their background
 * work within it, or are left behind. With the listeners already closed, SIGTERM ends `serve`
 * within this bound plus the process's own teardown, whatever is stuck (docs/reliability.md).
 */
export const shutdownGraceMs = 5000;

async function stopWithin(exporter: Exporter, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const outcome = await Promise.race([exporter.stop().catch(() => undefined), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    exporter.hostReads.close();
    log.warn('collectors did not stop within the shutdown grace; exiting without them', { grace_seconds: ms / 1000 });
  }
}

/**
 * The exit code, or no return at all: with a thread of this process stuck in a read, Node.js's
 * exit would join that thread and wait for the stall to end. The kernel lets a fatal signal end
 * it instead (the reads that can hold a thread here wait killably), so the process ends by the
 * default action of the signal that stopped it, as if it had no handler.
 */
function exitAfterStuckReads(exporter: Exporter, signal: string, log: Logger): Promise<number> | number {
  const held = exporter.hostReads.heldThreads;
  if (held === 0) return 0;
  log.warn("threads are stuck in reads of the host: ending by the signal's default action, since an exit would wait for them", {
    threads: held,
    signal,
  });
  process.removeAllListeners(signal);
  process.kill(process.pid, signal as NodeJS.Signals);
  return new Promise<number>(() => undefined);
}

/**
 * Trust on first use: with no baseline at all, the current host becomes the baseline, loudly. A
 * collector that cannot learn within --baseline.timeout is left out of it rather than keeping every
 * other collector from a baseline and the host from its metrics: its run stays pending, so until it
 * ends collections report that collector failed (still busy), and the log says how to add its section.
 */
async function learnOnFirstStart(exporter: Exporter, log: Logger): Promise<void> {
  const state = exporter.baseline.current;
  if (state.status !== 'missing') return;
  log.warn(
    'NO BASELINE: learning one from the current host (trust on first use). Anything already running here is accepted as known-good; review it with `hostguard-exporter baseline show` and confirm with `baseline update`',
    {
      file: exporter.baseline.store.path,
    },
  );
  const leftOut = (timeout: LearningTimeoutError) =>
    log.error(
      'BASELINE INCOMPLETE: a collector did not finish learning within --baseline.timeout; the baseline is written without its section, so that collector has no baseline to judge by. Find what blocks it (a dead mount under a watched path?) or raise --baseline.timeout, then run `baseline update`',
      {
        collector: timeout.collector,
        err: timeout.message,
      },
    );
  try {
    await exporter.acceptCurrentState('trust-on-first-use', leftOut);
  } catch (error) {
    if (error instanceof LearningError) throw new UsageError(`${error.message}; no baseline written to ${exporter.baseline.store.path}`);
    throw new UsageError(`cannot write the baseline ${exporter.baseline.store.path}: ${describeErrno(error)}`);
  }
}

function listen(app: ReturnType<typeof createApp>, address: ListenAddress, webConfig: WebConfigStore, log: Logger): Promise<Server> {
  const tls = webConfig.current().tls;
  const server: Server = tls
    ? createHttpsServer(
        {
          ...secureContextOptions(tls),
          // Handshakes fail for untrusted certificates when verification is required from the start;
          // every other client certificate policy is enforced per request (see access-control.ts).
          requestCert: tls.clientAuth !== 'NoClientCert',
          rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
        },
        app,
      )
    : createHttpServer(app);
  if (tls) {
    webConfig.onChange((config) => {
      if (config.tls) (server as ReturnType<typeof createHttpsServer>).setSecureContext(secureContextOptions(config.tls));
    });
  }
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new ListenError(`cannot listen on ${formatListenAddress(address)}: ${describeErrno(error)}`));
    });
    server.listen({ host: address.host, port: address.port }, () => {
      const bound = server.address();
      const port = typeof bound === 'object' && bound ? bound.port : address.port;
      log.info('listening', { address: formatListenAddress({ host: address.host, port }), tls: Boolean(tls) });
      resolve(server);
    });
  });
}

function secureContextOptions(tls: TlsSettings) {
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ciphers: tls.ciphers,
    honorCipherOrder: tls.honorCipherOrder,
    ecdhCurve: tls.ecdhCurve,
  };
}

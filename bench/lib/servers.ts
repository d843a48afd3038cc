import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitForOutput } from '../../test/helpers/wait-for-output.js';

export const repoRoot = join(import.meta.dirname, '..', '..');

export interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

function owned(child: ChildProcess, url: string): Server {
  return {
    child,
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The built exporter on a free loopback port; `dist` names another build's dist directory. */
export async function startHostguard(args: readonly string[], dist = join(repoRoot, 'dist')): Promise<Server> {
  const child = spawn(join(dist, 'cli/main.js'), ['--web.listen-address', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const match = await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 120_000);
  return owned(child, `http://127.0.0.1:${match[1]}`);
}

/** Debian's prometheus-node-exporter on a given loopback port. */
export async function startNodeExporter(port: number, args: readonly string[] = []): Promise<Server> {
  const child = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(child, /Listening on/i, 20_000);
  return owned(child, `http://127.0.0.1:${port}`);
}

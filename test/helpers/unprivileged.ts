import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

let installed: string | undefined;

/**
 * A directory holding the built exporter (dist, node_modules, package.json, examples) that user
 * 65534 can read: the checkout itself when its path is open to everyone, otherwise a copy (CI may
 * clone under a private home directory).
 */
export function installForUnprivileged(): string {
  if (installed) return installed;
  const readable = spawnSync('setpriv', [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    'test',
    '-r',
    join(repoRoot, 'dist', 'cli', 'main.js'),
  ]);
  if (readable.status === 0) return (installed = repoRoot);
  const copy = mkdtempSync(join(tmpdir(), 'hostguard-install-'));
  chmodSync(copy, 0o755);
  for (const part of ['dist', 'node_modules', 'package.json', 'examples'])
    cpSync(join(repoRoot, part), join(copy, part), { recursive: true });
  return (installed = copy);
}

import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { integrityCollector } from '../../../src/collectors/integrity.js';
import { Exporter } from '../../../src/exporter.js';
import { silentLogger } from '../../../src/log/logger.js';
import { tempDir } from '../../helpers/cli.js';

function threads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('integrity background work', () => {
  it('stop() terminates the hash workers of a scan in progress', async () => {
    const dir = tempDir();
    const tree = join(dir, 'tree');
    writeFileSync(join(dir, 'policy.yml'), `integrity:\n  paths: [${JSON.stringify(tree)}]\n  running_executables: false\n  package_database: false\n`);
    const exporter = new Exporter({
      paths: { procfs: '/proc', rootfs: '/', stateDir: dir },
      policyFile: join(dir, 'policy.yml'),
      collectors: [integrityCollector],
      maxFindingSeries: 100,
      log: silentLogger,
      build: { version: '0.0.0', revision: 'test' },
    });
    await exporter.acceptCurrentState('operator'); // an empty tree: nothing to hash yet
    // A large file (sparse: no disk used) so that the scan at start is still hashing when we stop.
    mkdirSync(tree);
    const fd = openSync(join(tree, 'big'), 'w');
    ftruncateSync(fd, 8 * 2 ** 30);
    closeSync(fd);
    await readFile(join(dir, 'policy.yml')); // start libuv's thread pool now, so it does not count below
    const before = threads();
    await exporter.start();
    await until(() => threads() > before);
    await exporter.stop();
    await until(() => threads() === before, 5_000);
    expect(threads()).toBe(before);
  });
});

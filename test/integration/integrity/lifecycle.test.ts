import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { integrityCollector } from '../../../src/collectors/integrity.js';
import { Exporter } from '../../../src/exporter.js';
import { silentLogger } from '../../../src/log/logger.js';
import { CappedSeries } from '../../../src/metrics/capped-series.js';
import { tempDir } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { sampleValue } from '../../helpers/exposition.js';

/** This process's helper processes (src/isolated/helper), which walk and hash for the scans. */
function helpers(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const parent = Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[1]);
        return parent === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('isolated/helper');
      } catch {
        return false;
      }
    });
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  await eventually(condition, { intervalMs: 5 });
}

/** An exporter watching `dir/tree` with the integrity collector alone. */
function exporterWatchingTree(dir: string): { exporter: Exporter; tree: string } {
  const tree = join(dir, 'tree');
  writeFileSync(
    join(dir, 'policy.yml'),
    `integrity:\n  paths: [${JSON.stringify(tree)}]\n  running_executables: false\n  package_database: false\n  ssh_authorized_keys: false\n  privileged_files: { enabled: false }\n`,
  );
  const exporter = new Exporter({
    paths: { procfs: '/proc', rootfs: '/', stateDir: dir },
    policyFile: join(dir, 'policy.yml'),
    collectors: [integrityCollector],
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: '0.0.0', revision: 'test' },
  });
  return { exporter, tree };
}

async function scansSoFar(exporter: Exporter): Promise<number> {
  const exposition = await exporter.registry.metrics();
  return ['fast', 'full'].reduce((sum, mode) => sum + (sampleValue(exposition, 'hostguard_integrity_scans_total', { mode }) ?? 0), 0);
}

describe('integrity background work', () => {
  it('scrapes between two scans judge and record the scan once, not once per scrape', async () => {
    const { exporter, tree } = exporterWatchingTree(tempDir());
    mkdirSync(tree);
    for (let i = 0; i < 3; i++) writeFileSync(join(tree, `f${i}`), `content ${i}`);
    await exporter.acceptCurrentState('operator');
    writeFileSync(join(tree, 'f1'), 'CHANGED');
    const learned = await scansSoFar(exporter);
    const rebuilt = vi.spyOn(CappedSeries.prototype, 'replace');
    try {
      await exporter.start();
      await until(async () => (await scansSoFar(exporter)) > learned); // the scan at start, without a scrape

      const first = await exporter.snapshot();
      const second = await exporter.snapshot();
      expect(rebuilt).toHaveBeenCalledTimes(1);
      for (const { exposition, result } of [first, second]) {
        expect(result.findings.map((f) => [f.kind, f.subject['path']])).toEqual([['content_changed', join(tree, 'f1')]]);
        expect(
          sampleValue(exposition, 'hostguard_integrity_mismatch', {
            path: join(tree, 'f1'),
            kind: 'content_changed',
            attribute: 'content',
          }),
        ).toBe(1);
        expect(sampleValue(exposition, 'hostguard_integrity_watched_files', { type: 'file' })).toBe(3);
      }
    } finally {
      rebuilt.mockRestore();
      await exporter.stop();
    }
  });

  it('stop() ends the helper processes of a scan in progress', async () => {
    const dir = tempDir();
    const { exporter, tree } = exporterWatchingTree(dir);
    await exporter.acceptCurrentState('operator'); // an empty tree: nothing to hash yet
    // A large file (sparse: no disk used) so that the scan at start is still hashing when we stop.
    mkdirSync(tree);
    const fd = openSync(join(tree, 'big'), 'w');
    ftruncateSync(fd, 8 * 2 ** 30);
    closeSync(fd);
    await exporter.start();
    await until(() => helpers().length > 0);
    await exporter.stop();
    await until(() => helpers().length === 0);
    expect(helpers()).toEqual([]);
  });
});

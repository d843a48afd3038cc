import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { integrityCollector } from '../../../src/collectors/integrity.js';
import { DpkgReader } from '../../../src/integrity/dpkg.js';
import { compileWatchScope } from '../../../src/integrity/watch-scope.js';
import { Exporter } from '../../../src/exporter.js';
import { silentLogger } from '../../../src/log/logger.js';
import { tempDir } from '../../helpers/cli.js';
import { sampleValue } from '../../helpers/exposition.js';

const md5 = (text: string | Buffer) => createHash('md5').update(text).digest('hex');

/** A Debian-like root: merged /usr, two packages, one diversion, a dpkg log. */
function debianRoot(): string {
  const root = tempDir('hostguard-rootfs-');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(join(root, 'var/log'), { recursive: true });
  symlinkSync('usr/bin', join(root, 'bin'));
  writeFileSync(join(root, 'usr/bin/tool'), 'tool v1\n', { mode: 0o755 });
  writeFileSync(join(root, 'usr/bin/pg_config'), 'wrapper\n', { mode: 0o755 });
  writeFileSync(join(root, 'usr/bin/pg_config.libpq-dev'), 'real pg_config\n', { mode: 0o755 });
  copyFileSync('/usr/bin/true', join(root, 'usr/bin/local-only'));
  // "tool" ships as /bin/tool (before the /usr merge); libpq-dev's pg_config is diverted by postgresql-common.
  writeFileSync(join(root, 'var/lib/dpkg/info/tool.md5sums'), `${md5('tool v1\n')}  bin/tool\n`);
  writeFileSync(join(root, 'var/lib/dpkg/info/tool.list'), '/.\n/bin\n/bin/tool\n');
  writeFileSync(join(root, 'var/lib/dpkg/info/libpq-dev:amd64.md5sums'), `${md5('real pg_config\n')}  usr/bin/pg_config\n`);
  writeFileSync(join(root, 'var/lib/dpkg/info/postgresql-common.md5sums'), `${md5('wrapper\n')}  usr/bin/pg_config\n`);
  writeFileSync(join(root, 'var/lib/dpkg/diversions'), '/usr/bin/pg_config\n/usr/bin/pg_config.libpq-dev\npostgresql-common\n');
  writeFileSync(join(root, 'var/lib/dpkg/status'), 'Package: tool\nStatus: install ok installed\n');
  utimesSync(join(root, 'var/lib/dpkg/status'), 1_700_000_000, 1_700_000_000);
  writeFileSync(
    join(root, 'var/log/dpkg.log'),
    '2024-01-02 03:04:05 startup archives unpack\n2024-01-02 03:04:06 status installed tool:amd64 1.0\n',
  );
  return root;
}

function exporterOn(rootfs: string, stateDir: string, policy: string): Exporter {
  const file = join(stateDir, 'policy.yml');
  writeFileSync(file, policy);
  return new Exporter({
    paths: { procfs: '/proc', rootfs, stateDir },
    policyFile: file,
    collectors: [integrityCollector],
    maxFindingSeries: 100,
    log: silentLogger,
    build: { version: '0.0.0', revision: 'test' },
  });
}

describe('the dpkg database as a second source of known-good content', () => {
  const policy = 'integrity:\n  paths: [/usr/bin]\n  running_executables: false\n';

  it('verifies watched files against md5sums with no baseline, honouring /usr merge and diversions', async () => {
    const rootfs = debianRoot();
    const exporter = exporterOn(rootfs, tempDir(), policy);
    try {
      const quiet = await exporter.snapshot();
      expect(quiet.result.findings).toEqual([]);
      expect(sampleValue(quiet.exposition, 'hostguard_package_verified_files', { manager: 'dpkg' })).toBe(3);
      expect(sampleValue(quiet.exposition, 'hostguard_package_database_present', { manager: 'dpkg' })).toBe(1);
      expect(
        sampleValue(quiet.exposition, 'hostguard_package_manager_last_activity_timestamp_seconds', { manager: 'dpkg', source: 'status' }),
      ).toBe(1_700_000_000);
      expect(
        sampleValue(quiet.exposition, 'hostguard_package_manager_last_activity_timestamp_seconds', { manager: 'dpkg', source: 'log' }),
      ).toBe(new Date('2024-01-02T03:04:06').getTime() / 1000);

      writeFileSync(join(rootfs, 'usr/bin/tool'), 'tool v1 with a backdoor\n');
      const tampered = await exporter.snapshot();
      expect(tampered.result.findings.map((f) => [f.kind, f.subject])).toEqual([
        ['package_mismatch', { path: '/usr/bin/tool', package: 'tool' }],
      ]);
      expect(sampleValue(tampered.exposition, 'hostguard_package_mismatched_files', { manager: 'dpkg' })).toBe(1);
      expect(
        sampleValue(tampered.exposition, 'hostguard_integrity_mismatch', {
          path: '/usr/bin/tool',
          kind: 'package_mismatch',
          attribute: 'content',
        }),
      ).toBe(1);
    } finally {
      await exporter.stop();
    }
  });

  it('learns SHA-256 only, so a first start is not held up by MD5s; the next scan reads MD5s of package files alone', async () => {
    const rootfs = debianRoot();
    const exporter = exporterOn(rootfs, tempDir(), policy);
    try {
      const body = await exporter.acceptCurrentState('operator');
      expect(body.sections['integrity']?.['/usr/bin/tool']).toMatchObject({
        sha256: createHash('sha256').update('tool v1\n').digest('hex'),
      });
      expect(body.sections['integrity']?.['/usr/bin/tool']).not.toHaveProperty('md5');
      const { exposition, result } = await exporter.snapshot();
      expect(result.findings).toEqual([]);
      expect(sampleValue(exposition, 'hostguard_package_verified_files', { manager: 'dpkg' })).toBe(3);
      // The three files dpkg knows were read for their MD5; local-only matched the fast path.
      expect(sampleValue(exposition, 'hostguard_integrity_last_scan_hashed_files')).toBe(3);
      expect(sampleValue(exposition, 'hostguard_integrity_watched_files', { type: 'file' })).toBe(4);
    } finally {
      await exporter.stop();
    }
  });

  it('reports the package database absent on a host without dpkg', async () => {
    const rootfs = tempDir('hostguard-rootfs-');
    mkdirSync(join(rootfs, 'usr/bin'), { recursive: true });
    const exporter = exporterOn(rootfs, tempDir(), policy);
    try {
      const { exposition } = await exporter.snapshot();
      expect(sampleValue(exposition, 'hostguard_package_database_present', { manager: 'dpkg' })).toBe(0);
      expect(
        sampleValue(exposition, 'hostguard_package_manager_last_activity_timestamp_seconds', { manager: 'dpkg', source: 'status' }),
      ).toBeUndefined();
    } finally {
      await exporter.stop();
    }
  });

  it('re-reads the md5sums files once, not every scan, for path sets that alternate while dpkg does not run', () => {
    const root = debianRoot();
    const md5sums = join(root, 'var/lib/dpkg/info/tool.md5sums');
    // Rewriting a file in place changes neither its directory's mtime nor status: the signature
    // stays, and the checksum returned tells which version of the file was last read.
    const version = (n: number) => writeFileSync(md5sums, `${md5(`tool v${n}\n`)}  bin/tool\n`);
    const reader = new DpkgReader(root);
    // Two process sets, each with a path the other lacks (a job that comes and goes).
    const withPgConfig = new Set(['/usr/bin/tool', '/usr/bin/pg_config']);
    const withLocal = new Set(['/usr/bin/tool', '/usr/bin/local-only']);
    const toolSum = (wanted: ReadonlySet<string>) => reader.read(wanted).checksumOf('/usr/bin/tool')?.md5;
    expect(toolSum(withPgConfig)).toBe(md5('tool v1\n'));
    version(2);
    expect(toolSum(withLocal)).toBe(md5('tool v2\n'));
    version(3);
    expect(toolSum(withPgConfig)).toBe(md5('tool v2\n'));
    expect(toolSum(withLocal)).toBe(md5('tool v2\n'));
    expect(reader.read(withLocal).checksumOf('/usr/bin/pg_config')?.package).toBe('postgresql-common');
  });

  it('names the owners of watched paths as the host sees them (/bin/tool listed, /usr/bin/tool on disk), and fingerprints each package', () => {
    const root = debianRoot();
    const database = new DpkgReader(root).read(new Set(), compileWatchScope(['/usr/bin'], []));
    expect(database.ownersOf('/usr/bin/tool')).toEqual(['tool']);
    expect(database.ownersOf('/bin/tool')).toEqual(['tool']);
    expect(database.packages.get('tool')).toMatchObject({ state: 'installed', settled: true, paths: ['/usr/bin', '/usr/bin/tool'] });
    const before = database.packages.get('tool')!.fingerprint;
    writeFileSync(join(root, 'var/lib/dpkg/info/tool.md5sums'), `${md5('tool v2\n')}  bin/tool\n`);
    writeFileSync(join(root, 'var/lib/dpkg/status-new'), 'Package: tool\nStatus: install ok installed\nVersion: 2\n');
    renameSync(join(root, 'var/lib/dpkg/status-new'), join(root, 'var/lib/dpkg/status'));
    expect(new DpkgReader(root).read(new Set(), compileWatchScope(['/usr/bin'], [])).packages.get('tool')?.fingerprint).not.toBe(before);
  });
});

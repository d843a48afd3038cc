import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BaselineStore } from '../../../src/baseline/store.js';
import { integrityCollector } from '../../../src/collectors/integrity.js';
import { integritySectionSchema } from '../../../src/config/sections/integrity.js';
import { Exporter } from '../../../src/exporter.js';
import { createLogger, silentLogger } from '../../../src/log/logger.js';
import { DpkgReader } from '../../../src/integrity/dpkg.js';
import { fastPathKey } from '../../../src/integrity/file-state.js';
import { hashFile } from '../../../src/integrity/hash-worker.js';
import { scan, type ScanOptions } from '../../../src/integrity/scan.js';
import { IsolatedFs } from '../../../src/isolated/isolated-fs.js';
import { StuckReads } from '../../../src/procfs/stuck-reads.js';
import { cliPath, runCli, startExporter, tempDir } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { sampleValue } from '../../helpers/exposition.js';
import { spawnOwned, stopProcess } from '../../helpers/processes.js';
import { buildTree, editKeepingSizeAndMtime, integrityArgs, integrityPolicy } from './tree.js';

/** The helper processes the scans of this file make their calls in. */
const isolated = new IsolatedFs(new StuckReads(silentLogger), silentLogger, { stallMs: 30_000 });
afterAll(() => isolated.close());

function scanOptions(paths: string[], overrides: Partial<ScanOptions> = {}): ScanOptions {
  return {
    rootfs: '/',
    procfs: '/proc',
    policy: integritySectionSchema.parse({ paths, running_executables: false, package_database: false }),
    dpkg: new DpkgReader('/'),
    full: true,
    known: () => undefined,
    knownImage: () => undefined,
    fs: isolated,
    ...overrides,
  };
}

/** A tree with a baseline from `baseline init`: the arguments to use it and the baseline file. */
function initializedTree(): { tree: string; args: string[]; file: string } {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  buildTree(tree);
  const state = join(dir, 'state');
  const args = integrityArgs(integrityPolicy([tree]), state);
  expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
  return { tree, args, file: join(state, 'baseline.json') };
}

describe('integrity on bad input', () => {
  it('records fifos and devices by type and never opens them', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']);
    // A writer blocks in open() until someone opens the fifo for reading: had the scan opened it,
    // the kernel would have woken the writer (then it writes and exits).
    const writer = spawnOwned('sh', ['-c', `echo x > ${join(dir, 'pipe')}`]);
    const waitingForReader = () => readFileSync(`/proc/${writer.pid}/wchan`, 'utf8') === 'wait_for_partner';
    await eventually(waitingForReader, { what: 'the writer waiting for a reader of the fifo' });
    const { observation } = await scan(scanOptions([dir]));
    expect(observation.files.get(join(dir, 'pipe'))).toMatchObject({ type: 'fifo' });
    expect(observation.files.get(join(dir, 'pipe'))?.sha256).toBeUndefined();
    expect(observation.files.get(join(dir, 'null'))).toMatchObject({ type: 'char_device' });
    expect(observation.files.get(join(dir, 'null'))?.sha256).toBeUndefined();
    expect(waitingForReader()).toBe(true);
    expect(writer.exitCode).toBeNull();
    await stopProcess(writer);
  });

  it('reads every file in a full rehash, even where the fast-path key matches a known hash', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'content');
    const { observation } = await scan(scanOptions([dir]));
    const state = observation.files.get(join(dir, 'f'))!;
    // A hash known for the same size, inode, mtime and ctime: what a change below the file system would leave.
    const stale = { key: fastPathKey(state), sha256: 'f'.repeat(64) };
    const fast = await scan(scanOptions([dir], { full: false, known: () => stale }));
    expect(fast.observation.files.get(join(dir, 'f'))?.sha256).toBe(stale.sha256);
    expect(fast.observation.hashedFiles).toBe(0);
    const full = await scan(scanOptions([dir], { full: true, known: () => stale }));
    expect(full.observation.files.get(join(dir, 'f'))?.sha256).toBe(state.sha256);
    expect(full.observation.hashedFiles).toBe(1);
  });

  it('counts symlink loops and records each link with its target', async () => {
    const dir = tempDir();
    symlinkSync('b', join(dir, 'a'));
    symlinkSync('a', join(dir, 'b'));
    symlinkSync('.', join(dir, 'self'));
    const { observation } = await scan(scanOptions([dir, join(dir, 'a/x/**')]));
    expect(observation.problems.symlink_loop).toBe(2);
    expect(observation.files.get(join(dir, 'a'))).toMatchObject({ type: 'symlink', target: 'b' });
    expect(observation.files.get(join(dir, 'self'))).toMatchObject({ type: 'symlink', target: '.' });
    expect(observation.files.size).toBe(4);
  });

  it('does not trust a file that was replaced between listing and reading, nor one that grew while read', () => {
    const dir = tempDir();
    const file = join(dir, 'f');
    writeFileSync(file, 'one');
    const listed = hashFile({ file, follow: false, sha256: true, md5: false });
    expect(listed.sha256).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(join(dir, 'g'), 'two');
    execFileSync('mv', [join(dir, 'g'), file]);
    expect(hashFile({ file, expect: listed.stat!, follow: false, sha256: true, md5: false }).problem).toBe('changed');
    expect(hashFile({ file: join(dir, 'gone'), follow: false, sha256: true, md5: false }).problem).toBe('vanished');
    // /proc files stat as empty regular files and then yield bytes: more content than the size it was opened with.
    expect(hashFile({ file: '/proc/self/status', follow: true, sha256: true, md5: false }).problem).toBe('unstable');
  });

  it('keeps scanning a file that is appended to all the time, counting what it could not pin down', async () => {
    const dir = tempDir();
    const log = join(dir, 'growing.log');
    writeFileSync(log, '');
    const writer = spawnOwned('sh', ['-c', `while :; do echo 0123456789abcdef >> ${log}; done`]);
    try {
      for (let i = 0; i < 3; i++) {
        const { observation } = await scan(scanOptions([dir]));
        const state = observation.files.get(log);
        expect(state?.type).toBe('file');
        // Either it was read while still (a consistent hash) or it was counted as unstable.
        expect(state?.sha256 !== undefined || observation.problems.unstable === 1).toBe(true);
      }
    } finally {
      await stopProcess(writer);
    }
  });

  it('counts and logs files it may not read, as a user without privileges', () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'private'), { recursive: true });
    chmodSync(tree, 0o755);
    writeFileSync(join(tree, 'secret'), 'x', { mode: 0o600 });
    writeFileSync(join(tree, 'public'), 'y', { mode: 0o644 });
    chmodSync(join(tree, 'private'), 0o700);
    const policy = integrityPolicy([tree]);
    chmodSync(join(policy, '..'), 0o755);
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o777 });
    chmodSync(state, 0o777);
    const run = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', cliPath, ...integrityArgs(policy, state), 'check', '--format', 'json'],
      { encoding: 'utf8', env: { ...process.env, HOME: state } },
    );
    expect(run.stderr).toMatch(/integrity scan could not observe every path.* unreadable=2/);
    expect(run.stderr).toMatch(/unreadable: .*\/tree\/secret \(EACCES\)/);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ findings: [] });
  });

  it('refuses a tampered baseline loudly and never re-learns it', async () => {
    const { tree, args, file } = initializedTree();
    // The intruder edits a file and "fixes" its hash in the baseline.
    editKeepingSizeAndMtime(join(tree, 'bin/report.sh'));
    const check = runCli([...args, 'check', '--format', 'json']);
    const newHash = (JSON.parse(check.stdout) as { findings: Array<{ message: string }> }).findings[0]!.message.match(
      /SHA-256 ([0-9a-f]{64})/,
    )![1]!;
    const text = readFileSync(file, 'utf8');
    const document = JSON.parse(text) as { sections: { integrity: Record<string, { sha256: string }> } };
    document.sections.integrity[join(tree, 'bin/report.sh')]!.sha256 = newHash;
    const tampered = JSON.stringify(document, null, 1) + '\n';
    writeFileSync(file, tampered);

    const after = runCli([...args, 'check', '--format', 'json']);
    expect(after.stderr).toMatch(/baseline failed verification.*NOT re-learning it/);
    expect(after.stderr).toMatch(/no verified baseline: file changes are judged against the package database only/);
    const exporter = await startExporter(args);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(metrics, 'hostguard_baseline_verified')).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(tampered);
  });

  it('refuses a corrupt baseline the same way', async () => {
    const { args, file } = initializedTree();
    const truncated = readFileSync(file, 'utf8').slice(0, 200);
    writeFileSync(file, truncated);
    const exporter = await startExporter(args);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(metrics, 'hostguard_baseline_verified')).toBe(0);
    expect(sampleValue(metrics, 'hostguard_baseline_present')).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(truncated);
  });

  it('ignores malformed entries of a verified baseline, counting and naming them, and judges the rest', async () => {
    const dir = tempDir();
    const tree = join(dir, 'tree');
    buildTree(tree);
    const state = join(dir, 'state');
    mkdirSync(state);
    const policy = integrityPolicy([tree]);
    const learner = new Exporter({ ...exporterOptions(state, policy), log: silentLogger });
    const learned = (await learner.learnSections())['integrity']!;
    await learner.stop();
    // Written through the store, so it verifies: only the entry itself is wrong (a future format, a bad edit before sealing).
    new BaselineStore(state).write(
      { integrity: { ...learned, [join(tree, 'etc/motd')]: { type: 'file', mode: 'rw-r--r--' } } },
      'operator',
    );
    const lines: string[] = [];
    const exporter = new Exporter({
      ...exporterOptions(state, policy),
      log: createLogger({ level: 'info', format: 'logfmt', write: (l) => lines.push(l) }),
    });
    try {
      const { exposition, result } = await exporter.snapshot();
      expect(sampleValue(exposition, 'hostguard_baseline_verified')).toBe(1);
      expect(sampleValue(exposition, 'hostguard_integrity_baseline_invalid_entries')).toBe(1);
      expect(lines.join('\n')).toMatch(/ignoring malformed integrity baseline entries.*count=1.*etc\/motd.*mode/);
      // The malformed entry's path is judged as if the baseline did not have it; every other path matches.
      expect(result.findings.map((f) => [f.kind, f.subject['path']])).toEqual([['added', join(tree, 'etc/motd')]]);
    } finally {
      await exporter.stop();
    }
  });
});

function exporterOptions(stateDir: string, policyFile: string) {
  return {
    paths: { procfs: '/proc', rootfs: '/', stateDir },
    policyFile,
    collectors: [integrityCollector],
    maxFindingSeries: 100,
    build: { version: '0.0.0', revision: 'test' },
  };
}

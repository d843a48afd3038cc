import { copyFileSync, readdirSync, readFileSync, readlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, privateDir, runCli, tempDir } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { sampleValue } from '../../helpers/exposition.js';
import { ioOf, spawnOwned, stopProcess, waitForOutput } from '../../helpers/processes.js';
import { buildTree, integrityArgs, integrityPolicy } from './tree.js';

/**
 * A 1 TiB sparse file: every byte is read and hashed (fifos and devices are never opened, so they
 * cannot stand in for a read that does not return), which takes minutes: learning cannot finish
 * within the one-second deadline these tests give it.
 */
function plantHugeFile(tree: string): void {
  const file = join(tree, 'var-lib-images.img');
  writeFileSync(file, '');
  truncateSync(file, 2 ** 40);
}

/** A watched tree of the test's own: the arguments that watch it alone, and the state directory. */
function watchedTree(policy: { schedule?: string } = {}): { tree: string; args: string[]; stateDir: string } {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  buildTree(tree);
  const stateDir = join(dir, 'state');
  return { tree, args: integrityArgs(integrityPolicy([tree], policy), stateDir), stateDir };
}

/** A watched tree with a baseline from `baseline init`, then a file too big to hash in time. */
function treeWithBaseline(): { args: string[]; stateDir: string; file: string } {
  const { tree, args, stateDir } = watchedTree();
  expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
  plantHugeFile(tree);
  return { args, stateDir, file: join(stateDir, 'baseline.json') };
}

/** The processes whose parent is `pid` (the exporter's helper processes, which hash). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((child) => {
      try {
        return Number(readFileSync(`/proc/${child}/stat`, 'latin1').split(') ')[1]!.split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

/** How many descriptors of `pid` and of its helper processes have `file` open now. */
function descriptorsOn(pid: number, file: string): number {
  let count = 0;
  for (const holder of [pid, ...childrenOf(pid)]) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${holder}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${holder}/fd/${fd}`) === file) count++;
      } catch {
        // closed meanwhile
      }
    }
  }
  return count;
}

/**
 * The CLI past its deadline. Hashing the terabyte would take minutes: an exit with the deadline's
 * message shows the deadline ended it (how soon after is a figure for bench/, not a test).
 */
function cliPastDeadline(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(args, { timeoutMs: 120_000 });
}

const deadlineMessage = 'hostguard-exporter: collector integrity did not finish learning: no result within 1s (--baseline.timeout)';

describe('learning a baseline under --baseline.timeout', () => {
  it('`baseline init` that cannot hash everything in time ends with exit 2, the collector and the deadline named, and no baseline', () => {
    const { tree, args, stateDir } = watchedTree();
    plantHugeFile(tree);
    const { code, stderr } = cliPastDeadline([...args, '--baseline.timeout', '1s', 'baseline', 'init']);
    expect(stderr).toContain(`${deadlineMessage}; no baseline written to ${join(stateDir, 'baseline.json')}`);
    expect(code).toBe(2);
    expect(readdirSync(stateDir).filter((f) => f.includes('baseline'))).toEqual([]);
  });

  it.each(['baseline update', 'baseline init --force'])(
    '`%s` past the deadline ends with exit 2 and leaves the existing baseline byte for byte',
    (command) => {
      const { args, stateDir, file } = treeWithBaseline();
      const before = readFileSync(file);
      const { code, stderr } = cliPastDeadline([...args, '--baseline.timeout', '1s', ...command.split(' ')]);
      expect(stderr).toContain(`${deadlineMessage}; the baseline at ${file} is unchanged`);
      expect(code).toBe(2);
      expect(readFileSync(file).equals(before)).toBe(true);
      expect(readdirSync(stateDir).filter((f) => f.includes('baseline'))).toEqual(['baseline.json']);
    },
  );

  it('`baseline diff` past the deadline ends with exit 2, not a diff', () => {
    const { args } = treeWithBaseline();
    const { code, stdout, stderr } = cliPastDeadline([...args, '--baseline.timeout', '1s', 'baseline', 'diff']);
    expect(stderr).toContain(`${deadlineMessage}; nothing to compare`);
    expect(stdout).toBe('');
    expect(code).toBe(2);
  });

  it('serve on its first start leaves the late collector out of the baseline, says so, and serves the others', async () => {
    // Scans at start only: one more pass over the huge file is enough for this test.
    const { tree, args } = watchedTree({ schedule: '0 0 1 1 *' });
    plantHugeFile(tree);
    // An executable no package owns, running: the processes section then learns at least it,
    // whatever else this host happens to run.
    const unpackaged = join(privateDir(), 'sleep');
    copyFileSync('/usr/bin/sleep', unpackaged);
    const sleeper = spawnOwned(unpackaged, ['600']);
    await eventually(() => readlinkSync(`/proc/${sleeper.pid}/exe`) === unpackaged, {
      intervalMs: 10,
      what: 'the unpackaged sleep running',
    });
    // A deadline the processes collector meets on a loaded machine too (it learns in seconds), that
    // hashing a terabyte cannot (minutes at several GB/s).
    const child = spawnOwned(cliPath, [
      '--web.listen-address',
      '127.0.0.1:0',
      ...args,
      '--collector.processes',
      '--baseline.timeout',
      '30s',
      '--collector.timeout',
      '5m',
    ]);
    let output = '';
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const port = Number((await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 150_000))[1]);
    expect(output).toMatch(/level=error msg="BASELINE INCOMPLETE: .*--baseline.timeout.*" collector=integrity /);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(sampleValue(metrics, 'hostguard_baseline_verified')).toBe(1);
    expect(sampleValue(metrics, 'hostguard_baseline_entries', { section: 'processes' })).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'hostguard_baseline_entries', { section: 'integrity' })).toBeUndefined();
    // Its learning still runs: the integrity collector is reported busy, the processes collector works.
    expect(sampleValue(metrics, 'hostguard_scrape_collector_success', { collector: 'integrity' })).toBe(0);
    expect(sampleValue(metrics, 'hostguard_collector_errors_total', { collector: 'integrity', reason: 'timeout' })).toBe(1);
    expect(sampleValue(metrics, 'hostguard_scrape_collector_success', { collector: 'processes' })).toBe(1);
    expect(await stopProcess(child)).toBe(0);
    await stopProcess(sleeper);
  }, 180_000);

  it('serve does not start its scan at start beside a learn that passed the deadline: scans never overlap', async () => {
    const { tree, args } = watchedTree({ schedule: '0 0 1 1 *' });
    plantHugeFile(tree);
    const huge = join(tree, 'var-lib-images.img');
    const child = spawnOwned(cliPath, ['--web.listen-address', '127.0.0.1:0', ...args, '--baseline.timeout', '1s']);
    await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 60_000);
    // The late learn is hashing the huge file; a scan beside it would open the file a second time.
    await eventually(() => descriptorsOn(child.pid!, huge) === 1, { what: 'the late learn hashing the huge file' });
    // An absence has no event to wait for: keep looking while the learn reads 2 GiB more of the file
    // (it has minutes of hashing left), a window counted in the exporter's own progress, not in
    // time. The scan at start was asked for before the exporter listened: beside the learn, it would
    // have reached the file (in a tree of a few files) long before.
    // The hashing is done by the exporter's helper processes: their reads count, each at the most it was seen at.
    const readBy = new Map<number, number>();
    const readByTree = () => {
      for (const holder of [child.pid!, ...childrenOf(child.pid!)]) {
        try {
          readBy.set(holder, Math.max(readBy.get(holder) ?? 0, ioOf(holder).read));
        } catch {
          // exited meanwhile: its last reading stays
        }
      }
      return [...readBy.values()].reduce((sum, n) => sum + n, 0);
    };
    const readFrom = readByTree();
    let most = 0;
    await eventually(
      () => {
        most = Math.max(most, descriptorsOn(child.pid!, huge));
        return readByTree() - readFrom >= 2 * 2 ** 30;
      },
      { intervalMs: 20, timeoutMs: 300_000, what: 'the learn reading 2 GiB more' },
    );
    expect(most).toBe(1);
    expect(await stopProcess(child)).toBe(0);
  }, 360_000);
});

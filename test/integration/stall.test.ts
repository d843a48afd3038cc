import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';
import { mountStallFs, processState, startVictim, type StallFs } from '../helpers/stall-fs.js';

/**
 * A FUSE file system that stops answering (test/fixtures/stall-fs): a process faulting on it, its
 * executable, a watched path on it, a file being hashed on it. Each case: /metrics answers during
 * the stall, what is stuck is reported (metric, log, finding), everything recovers by itself once
 * the stall ends, and SIGTERM ends the exporter while the stall still holds.
 */

const patience = 90_000;

/**
 * --collector.timeout of these tests: reads are declared stuck after a quarter of it (3 s). Long
 * enough that a collection of a few thousand processes on a loaded 2-core host fits in it.
 */
const collectorTimeout = '12s';

interface Watched {
  readonly exporter: RunningExporter;
  log(): string;
}

async function start(args: readonly string[]): Promise<Watched> {
  const exporter = await startExporter(['--state.dir', tempDir(), '--collector.timeout', collectorTimeout, ...args]);
  let log = '';
  exporter.child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  return { exporter, log: () => log };
}

function policyFile(yaml: string): string {
  const file = join(tempDir(), 'policy.yml');
  writeFileSync(file, yaml);
  return file;
}

/** One scrape. A frozen exporter would never answer: the poll below then fails at its deadline. */
async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(patience) });
  expect(response.status).toBe(200);
  return response.text();
}

/** Scrape until `ready` holds of an exposition; every scrape along the way must answer. On failure, the exporter's log says why. */
async function scrapeUntil(watched: Watched, what: string, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + patience;
  let text = '';
  for (;;) {
    try {
      text = await scrape(watched.exporter.url);
    } catch (error) {
      throw new Error(`scrape failed while waiting for ${what}: ${String(error)}\nexporter log:\n${watched.log().slice(-4000)}`);
    }
    if (ready(text)) return text;
    if (Date.now() > deadline) {
      const lines = text.split('\n').filter((l) => !l.startsWith('#') && /stuck|stalled|success/.test(l));
      throw new Error(`not seen within ${patience / 1000}s: ${what}\n${lines.join('\n')}\nexporter log:\n${watched.log().slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function stuckReads(text: string, kind: 'process_memory' | 'file_system'): number {
  return sampleValue(text, 'hostguard_stuck_reads', { kind }) ?? -1;
}

/** SIGTERM, then the exit (with a generous deadline: a frozen exporter never exits). */
async function terminate(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.kill('SIGTERM');
  const timer = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), patience).unref());
  const outcome = await Promise.race([exited, timer]);
  if (outcome === 'hung') throw new Error('the exporter did not exit after SIGTERM');
  return outcome;
}

/** A clean end: exit 0, or SIGTERM's own default action when a thread was stuck in a read (see src/cli/serve.ts). */
function expectCleanEnd(end: { code: number | null; signal: NodeJS.Signals | null }, log: string): void {
  expect(end.code === 0 || end.signal === 'SIGTERM').toBe(true);
  expect(log).toMatch(/msg="shutting down" signal=SIGTERM/);
}

/** The stall's control file is still there (next to the mount point, never through it). */
function stillStalled(fs: StallFs): boolean {
  return existsSync(join(fs.mountPoint, '..', 'stall'));
}

/** The PIDs of `pid`'s children running the exporter's helper script now. */
function helperChildren(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === pid && readFileSync(`/proc/${name}/cmdline`, 'latin1').includes('helper.js');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('a stalled FUSE file system', () => {
  it(
    'a process faulting on it and run from it: /metrics answers, the process is a stalled_process finding, it recovers, and SIGTERM ends the exporter during the stall',
    async () => {
      const fs = await mountStallFs();
      const victim = await startVictim(fs);
      // Every default collector, the integrity one watching a small directory of its own (the running
      // executables included), and both sweeps every few seconds, so that they run during the stall.
      const watched = join(tempDir(), 'etc');
      mkdirSync(watched);
      writeFileSync(join(watched, 'conf'), 'x');
      const policy = [
        'integrity:',
        `  paths: [${JSON.stringify(watched)}]`,
        'processes:',
        '  hidden_sweep:',
        '    schedule: "*/2 * * * * *"',
        'listeners:',
        '  hidden_ports:',
        '    schedule: "*/2 * * * * *"',
        '    ports: "1-1024"',
        '    confirm_delay_seconds: 0',
        '',
      ].join('\n');
      const hg = await start(['--config.file', policyFile(policy)]);
      const { exporter, log } = hg;
      const calm = await scrape(exporter.url);
      expect(stuckReads(calm, 'process_memory')).toBe(0);

      fs.stall();
      const stalled = await scrapeUntil(
        hg,
        'the victim as a stalled_process finding',
        (text) => sampleValue(text, 'hostguard_process_flagged', { exe: victim.exe, kind: 'stalled_process' }) === 1,
      );
      expect(processState(victim.pid)).toBe('D');
      expect(stuckReads(stalled, 'process_memory')).toBe(1);
      // Only what needs the stuck read is degraded: every collector still succeeds.
      for (const s of parseExposition(stalled).filter((s) => s.name === 'hostguard_scrape_collector_success'))
        expect([s.labels['collector'], s.value]).toEqual([s.labels['collector'], 1]);
      // Whichever read of a memory-map file reaches it first: the collection's cmdline, or the code inspection's environ or maps.
      expect(log()).toMatch(
        new RegExp(
          `msg="read stuck in the kernel: skipping its target until it returns" .*kind=process_memory pid=${victim.pid} read=/proc/${victim.pid}/(cmdline|environ|maps)`,
        ),
      );
      // Its executable lies on the stalled file system too: its facts are stat'ed by a helper process, which got stuck there.
      expect(log()).toMatch(new RegExp(`kind=file_system mount=${fs.mountPoint} `));
      // Later collections skip it instead of queuing more reads behind the stuck one.
      const before = sampleValue(stalled, 'hostguard_stuck_reads_total', { kind: 'process_memory' });
      for (let i = 0; i < 3; i++)
        expect(sampleValue(await scrape(exporter.url), 'hostguard_stuck_reads_total', { kind: 'process_memory' })).toBe(before);
      // The hidden-process sweep (ps included) and the hidden-port sweep still complete, and the stalled process is not hidden.
      const swept = (text: string, name: string) => sampleValue(text, name) ?? 0;
      const sweeps = await scrapeUntil(
        hg,
        'both sweeps done again during the stall',
        (text) =>
          swept(text, 'hostguard_process_hidden_sweep_last_timestamp_seconds') >
            swept(stalled, 'hostguard_process_hidden_sweep_last_timestamp_seconds') &&
          swept(text, 'hostguard_network_hidden_port_sweep_last_timestamp_seconds') >
            swept(stalled, 'hostguard_network_hidden_port_sweep_last_timestamp_seconds'),
      );
      expect(sampleValue(sweeps, 'hostguard_process_hidden_sweep_success')).toBe(1);
      expect(parseExposition(sweeps).filter((s) => s.name === 'hostguard_processes_hidden' && s.value > 0)).toEqual([]);
      expect(processState(victim.pid)).toBe('D');

      fs.resume();
      await scrapeUntil(
        hg,
        'recovery',
        (text) =>
          stuckReads(text, 'process_memory') === 0 &&
          sampleValue(text, 'hostguard_process_flagged', { exe: victim.exe, kind: 'stalled_process' }) === undefined,
      );
      expect(log()).toMatch(new RegExp(`msg="stuck read returned: reading its target again" .*pid=${victim.pid}`));

      fs.stall();
      await scrapeUntil(hg, 'stuck again', (text) => stuckReads(text, 'process_memory') === 1);
      expectCleanEnd(await terminate(exporter.child), log());
      expect(stillStalled(fs)).toBe(true);
      expect(processState(victim.pid)).toBe('D');
    },
    4 * patience,
  );

  it(
    'a watched path on it: /metrics answers, the scans skip the stuck mount and name it, nothing under it is reported removed, it recovers, and SIGTERM ends the exporter during the stall',
    async () => {
      const fs = await mountStallFs((backing) => {
        mkdirSync(join(backing, 'bin'));
        writeFileSync(join(backing, 'bin', 'tool'), 'tool v1');
        writeFileSync(join(backing, 'config'), 'key: value');
      });
      const watched = join(tempDir(), 'local');
      mkdirSync(watched);
      writeFileSync(join(watched, 'file'), 'local');
      const policy = policyFile(
        `integrity:\n  paths: [${JSON.stringify(fs.mountPoint)}, ${JSON.stringify(watched)}]\n  schedule: "* * * * * *"\n  running_executables: false\n  package_database: false\n`,
      );
      const hg = await start(['--collector.disable-defaults', '--collector.integrity', '--config.file', policy]);
      const { exporter, log } = hg;
      const calm = await scrapeUntil(
        hg,
        'a scan',
        (text) => (sampleValue(text, 'hostguard_integrity_watched_files', { type: 'file' }) ?? 0) === 3,
      );
      expect(sampleValue(calm, 'hostguard_integrity_scan_problems', { problem: 'stuck' })).toBe(0);

      fs.stall();
      const stalled = await scrapeUntil(
        hg,
        'the mount reported stuck',
        (text) =>
          stuckReads(text, 'file_system') === 1 && sampleValue(text, 'hostguard_integrity_scan_problems', { problem: 'stuck' }) === 1,
      );
      expect(log()).toMatch(
        new RegExp(`msg="read stuck in the kernel: skipping its target until it returns" .*kind=file_system mount=${fs.mountPoint} `),
      );
      expect(sampleValue(stalled, 'hostguard_scrape_collector_success', { collector: 'integrity' })).toBe(1);
      // Scans go on, skipping the stuck mount: the local path is still watched, nothing on the mount counts as removed.
      const scans = (text: string) =>
        (sampleValue(text, 'hostguard_integrity_scans_total', { mode: 'fast' }) ?? 0) +
        (sampleValue(text, 'hostguard_integrity_scans_total', { mode: 'full' }) ?? 0);
      const later = await scrapeUntil(hg, 'two more scans during the stall', (text) => scans(text) >= scans(stalled) + 2);
      expect(stuckReads(later, 'file_system')).toBe(1);
      expect(sampleValue(later, 'hostguard_stuck_reads_total', { kind: 'file_system' })).toBe(
        sampleValue(stalled, 'hostguard_stuck_reads_total', { kind: 'file_system' }),
      );
      expect(parseExposition(later).filter((s) => s.name === 'hostguard_integrity_mismatch')).toEqual([]);
      expect(log()).toMatch(/integrity scan could not observe every path.* stuck=1 .*stuck: /);

      fs.resume();
      await scrapeUntil(
        hg,
        'recovery',
        (text) =>
          stuckReads(text, 'file_system') === 0 && sampleValue(text, 'hostguard_integrity_scan_problems', { problem: 'stuck' }) === 0,
      );
      expect(log()).toMatch(new RegExp(`msg="stuck read returned: reading its target again" .*mount=${fs.mountPoint} `));

      fs.stall();
      await scrapeUntil(hg, 'stuck again', (text) => stuckReads(text, 'file_system') === 1);
      expectCleanEnd(await terminate(exporter.child), log());
      expect(stillStalled(fs)).toBe(true);
    },
    4 * patience,
  );

  it(
    "the helper started in place of a stuck one is the exporter's own: the start watch sees it start and judges it known, with no program",
    async () => {
      const fs = await mountStallFs((backing) => writeFileSync(join(backing, 'config'), 'key: value'));
      const policy = policyFile(
        `integrity:\n  paths: [${JSON.stringify(fs.mountPoint)}]\n  schedule: "* * * * * *"\n  running_executables: false\n  package_database: false\n`,
      );
      const hg = await start([
        '--collector.disable-defaults',
        '--collector.integrity',
        '--collector.processes',
        '--config.file',
        policy,
        '--log.level',
        'debug',
      ]);
      await scrapeUntil(hg, 'a scan', (text) => (sampleValue(text, 'hostguard_integrity_scans_total', { mode: 'fast' }) ?? 0) >= 1);
      // The helpers of the start are there before the start watch's first look: they are no start.
      // A helper stuck on the mount is killed and a new one takes its place, seen starting.
      fs.stall();
      const children = new Set<number>();
      const startsOfChildren = () =>
        hg
          .log()
          .split('\n')
          .filter((l) => l.includes('msg="process start"') && [...children].some((pid) => l.includes(` pid=${pid} `)));
      await scrapeUntil(hg, 'a new helper process of the exporter, seen starting', () => {
        for (const pid of helperChildren(hg.exporter.child.pid!)) children.add(pid);
        return startsOfChildren().length > 0;
      });
      // This exporter's children only: another exporter's helpers (the suite runs many side by side) are a stranger's scripts to it.
      const starts = startsOfChildren();
      expect(
        starts.filter((l) => !l.includes('verdict=known') || l.includes('program=')),
        starts.join('\n'),
      ).toEqual([]);
      fs.resume();
      expectCleanEnd(await terminate(hg.exporter.child), hg.log());
    },
    4 * patience,
  );

  it(
    'stalled before the exporter starts, with the real-time watch and no scan due: the exporter answers, and a change made meanwhile is found once the mount answers again',
    async () => {
      const fs = await mountStallFs((backing) => writeFileSync(join(backing, 'config'), 'key: value'));
      const policy = policyFile(
        `integrity:\n  paths: [${JSON.stringify(fs.mountPoint)}]\n  schedule: "0 0 1 1 *"\n  running_executables: false\n  package_database: false\n`,
      );
      const stateDir = tempDir();
      const args = ['--collector.disable-defaults', '--collector.integrity', '--config.file', policy, '--state.dir', stateDir];
      const init = runCli([...args, 'baseline', 'init']);
      expect(init.code, init.stderr).toBe(0);
      fs.stall();
      const hg = await start(args);
      const skipped = await scrapeUntil(
        hg,
        'the scan at start, skipping the stuck mount',
        (text) =>
          (sampleValue(text, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0 &&
          sampleValue(text, 'hostguard_integrity_scan_problems', { problem: 'stuck' }) === 1,
      );
      expect(parseExposition(skipped).filter((s) => s.name === 'hostguard_integrity_mismatch')).toEqual([]);
      // Changed behind the stall's back (in the backing directory), then the mount answers again.
      writeFileSync(join(fs.backing, 'config'), 'key: other');
      fs.resume();
      const found = await scrapeUntil(
        hg,
        'the change, read after the stall ended',
        (text) => sampleValue(text, 'hostguard_integrity_mismatch', { path: join(fs.mountPoint, 'config'), kind: 'content_changed' }) === 1,
      );
      // Read by the watch's scan once the stall ended: the schedule never ran.
      expect(sampleValue(found, 'hostguard_integrity_watch_rescans_total', { reason: 'stall_ended' })).toBeGreaterThanOrEqual(1);
      expect(hg.log()).toMatch(/msg="integrity watch: the stuck file system answers again; scanning everything now"/);
      expectCleanEnd(await terminate(hg.exporter.child), hg.log());
    },
    4 * patience,
  );

  it(
    'a file being hashed on it when reads stall: the hash helper is declared stuck, the scan goes on, and SIGTERM ends the exporter during the stall',
    async () => {
      const fs = await mountStallFs((backing) => writeFileSync(join(backing, 'image'), Buffer.alloc(8 << 20, 3)));
      // Every scan a full rehash: the file is read again each time, through the stall file system.
      const policy = policyFile(
        `integrity:\n  paths: [${JSON.stringify(fs.mountPoint)}]\n  schedule: "* * * * * *"\n  full_rehash_interval: 1s\n  running_executables: false\n  package_database: false\n`,
      );
      const hg = await start(['--collector.disable-defaults', '--collector.integrity', '--config.file', policy]);
      const { exporter, log } = hg;
      await scrapeUntil(hg, 'a full scan', (text) => (sampleValue(text, 'hostguard_integrity_scans_total', { mode: 'full' }) ?? 0) >= 2);

      // Listing and stat still answer; opening and reading the file's content waits.
      fs.stall('read');
      const stalled = await scrapeUntil(
        hg,
        'the hashed file reported stuck',
        (text) => sampleValue(text, 'hostguard_integrity_scan_problems', { problem: 'stuck' }) === 1,
      );
      expect(stuckReads(stalled, 'file_system')).toBe(1);
      expect(sampleValue(stalled, 'hostguard_integrity_watched_files', { type: 'file' })).toBe(1);
      expect(log()).toMatch(new RegExp(`kind=file_system mount=${fs.mountPoint} read="hash in a helper process"`));

      expectCleanEnd(await terminate(exporter.child), log());
      expect(stillStalled(fs)).toBe(true);
    },
    3 * patience,
  );
});

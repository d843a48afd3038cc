import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import { stopProcess } from '../helpers/processes.js';

/** `pid` and every process below it (the exporter hashes in helper processes of its own). */
function withDescendants(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${all[i]}/task`)) {
        const children = readFileSync(`/proc/${all[i]}/task/${task}/children`, 'utf8').trim();
        if (children) all.push(...children.split(' ').map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** Whether process `pid`, or a process it started, has a file under `dir` open: a file is being hashed. */
function hashingIn(pid: number, dir: string): boolean {
  for (const process of withDescendants(pid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${process}/fd`);
    } catch {
      continue; // gone meanwhile
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${process}/fd/${fd}`).startsWith(`${dir}/`)) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}

/** kill -9 while the integrity collector hashes, and while the first start learns its baseline. */
describe('the exporter killed with SIGKILL during integrity work', () => {
  const watched = '/usr/lib/x86_64-linux-gnu';

  it('during a full rehash: the baseline is untouched, and the next run scans and finds nothing', async () => {
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `integrity:\n  paths: [${watched}]\n  full_rehash_interval: 1s\n  running_executables: false\n`);
    const args = ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.integrity'];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const before = readFileSync(join(dir, 'state', 'baseline.json'), 'utf8');
    for (let round = 0; round < 3; round++) {
      const exporter = await startExporter(args);
      // Mid-scan: a watched file is being hashed (hundreds of MB in all).
      await eventually(() => hashingIn(exporter.child.pid!, watched), { intervalMs: 5, what: 'a watched file being hashed' });
      await stopProcess(exporter.child, 'SIGKILL');
    }
    expect(readFileSync(join(dir, 'state', 'baseline.json'), 'utf8')).toBe(before);
    expect(runCli([...args, 'baseline', 'show']).stdout).toContain('verified: yes');
    const exporter = await startExporter(args);
    const body = await eventually(
      async () => {
        const text = await (await fetch(`${exporter.url}/metrics`)).text();
        return (sampleValue(text, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0 && text;
      },
      { timeoutMs: 90_000, what: 'the scan at start' },
    );
    expect(sampleValue(body, 'hostguard_integrity_last_scan_end_timestamp_seconds')).toBeGreaterThan(0);
    expect(sampleValue(body, 'hostguard_findings', { collector: 'integrity', kind: 'content_changed' })).toBe(0);
    expect(sampleValue(body, 'hostguard_baseline_verified')).toBe(1);
  }, 300_000);

  it('while the first start learns its baseline: the next start finds either none or a whole one, never a broken one', async () => {
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `integrity:\n  paths: [${watched}]\n  running_executables: false\n`);
    const args = ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.integrity'];
    const { spawnOwned } = await import('../helpers/processes.js');
    const { cliPath } = await import('../helpers/cli.js');
    for (let round = 0; round < 3; round++) {
      const learning = spawnOwned(cliPath, [...args, '--web.listen-address', '127.0.0.1:0']);
      // Mid-learning: a watched file is being hashed for the baseline.
      await eventually(() => hashingIn(learning.pid!, watched), { intervalMs: 5, what: 'a watched file being hashed' });
      await stopProcess(learning, 'SIGKILL');
      const show = runCli([...args, 'baseline', 'show']);
      expect([0, 2]).toContain(show.code);
      if (show.code === 0) expect(show.stdout).toContain('verified: yes');
      else expect(show.stderr).toContain('no baseline');
    }
  }, 300_000);
});

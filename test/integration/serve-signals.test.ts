import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { spawnOwned, stopProcess, waitForOutput } from '../helpers/processes.js';

/** A watched directory whose first hashing takes a moment: the window between start and serving. */
function slowToLearnPolicy(): string {
  const dir = tempDir();
  const watched = join(dir, 'watched');
  mkdirSync(watched);
  const block = Buffer.alloc(4 * 1024 * 1024, 7);
  for (let i = 0; i < 40; i++) writeFileSync(join(watched, `blob-${i}`), block);
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, `integrity:\n  paths: [${watched}]\n  running_executables: false\n  package_database: false\n`);
  return policy;
}

describe('serve and signals while it starts', () => {
  it('a SIGHUP (systemctl reload) while the first baseline is learned neither kills it nor is lost', async () => {
    const policy = slowToLearnPolicy();
    const child = spawnOwned(cliPath, [
      '--web.listen-address',
      '127.0.0.1:0',
      '--state.dir',
      tempDir(),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.integrity',
    ]);
    let output = '';
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    await waitForOutput(child, /NO BASELINE/);
    const listening = waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/, 60_000);
    process.kill(child.pid!, 'SIGHUP');
    const port = Number((await listening)[1]);
    expect(output).toMatch(/SIGHUP received while starting/);
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(sampleValue(body, 'hostguard_baseline_verified')).toBe(1);
    expect(output).toMatch(/policy reloaded/);
    expect(await stopProcess(child)).toBe(0);
  });

  it('a SIGTERM while the first baseline is learned stops it with exit 0 and no baseline half-written', async () => {
    const stateDir = tempDir();
    const child = spawnOwned(cliPath, [
      '--web.listen-address',
      '127.0.0.1:0',
      '--state.dir',
      stateDir,
      '--config.file',
      slowToLearnPolicy(),
      '--collector.disable-defaults',
      '--collector.integrity',
    ]);
    await waitForOutput(child, /NO BASELINE/);
    expect(await stopProcess(child, 'SIGTERM')).toBe(0);
    expect(readdirSync(stateDir).filter((f) => f.startsWith('baseline'))).toEqual([]);
  });
});

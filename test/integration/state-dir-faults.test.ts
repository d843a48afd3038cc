import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startExporter, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';

const mounted: string[] = [];
afterEach(() => {
  for (const dir of mounted.splice(0)) execFileSync('umount', ['-l', dir]);
});

function smallTmpfs(sizeKiB: number): string {
  const dir = join(tempDir(), 'state');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

/** An exporter following an auth log, with its state in `state`; its log collected from the start. */
async function followingExporter(state: string) {
  const work = tempDir();
  const log = join(work, 'auth.log');
  writeFileSync(log, '');
  const policy = join(work, 'policy.yml');
  writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${log}\n`);
  const exporter = await startExporter(['--state.dir', state, '--config.file', policy, '--collector.disable-defaults', '--collector.auth']);
  const output = { logged: '' };
  exporter.child.stderr?.on('data', (d: Buffer) => (output.logged += d.toString()));
  return { exporter, log, output };
}

const sshFailure = (i: number) =>
  `Nov 26 10:00:00 web-1 sshd[${3000 + i}]: Failed password for root from 192.0.2.${i % 200} port 4000 ssh2\n`;

/** A state directory that fills up or turns read-only: a metric and a log line, never a crash. */
describe('state directory faults', () => {
  it('a full state directory shows in hostguard_state_write_failing, and recovers when space returns', async () => {
    const state = smallTmpfs(64);
    const { exporter, log, output } = await followingExporter(state);
    const metrics = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const positionFile = (text: string) => /hostguard_state_write_failing\{file="([^"]*auth\.log-[0-9a-f]+\.json)"\}/.exec(text)?.[1];

    appendFileSync(log, sshFailure(1));
    let body = await metrics();
    const file = positionFile(body);
    expect(file).toBeTruthy();
    expect(sampleValue(body, 'hostguard_state_write_failing', { file: file! })).toBe(0);

    // Fill the file system, then make the exporter save its position.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(state, 'filler')}`, 'bs=4k', 'count=64'], { stdio: 'ignore' });
    } catch {
      // dd stops at ENOSPC: the point
    }
    appendFileSync(log, sshFailure(2));
    body = await metrics();
    expect(sampleValue(body, 'hostguard_state_write_failing', { file: file! })).toBe(1);
    expect(sampleValue(body, 'hostguard_state_write_failures_total', { file: file! })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(body, 'hostguard_scrape_collector_success', { collector: 'auth' })).toBe(1);
    expect(output.logged).toMatch(/cannot save the log position.*ENOSPC/);

    execFileSync('rm', [join(state, 'filler')]);
    appendFileSync(log, sshFailure(3));
    body = await metrics();
    expect(sampleValue(body, 'hostguard_state_write_failing', { file: file! })).toBe(0);
    expect(
      (await metrics())
        .split('\n')
        .filter((l) => l.startsWith('hostguard_auth_failures_total{') && !l.endsWith(' 0'))
        .map((l) => Number(l.split(' ').pop()))
        .reduce((a, b) => a + b, 0),
    ).toBe(3);
  }, 60_000);

  it('a state directory turned read-only is reported the same way; serving goes on', async () => {
    const state = smallTmpfs(1024);
    const { exporter, log, output } = await followingExporter(state);
    appendFileSync(log, sshFailure(1));
    await fetch(`${exporter.url}/metrics`);
    execFileSync('mount', ['-o', 'remount,ro', state]);
    appendFileSync(log, sshFailure(2));
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    const failing = body.split('\n').filter((l) => l.startsWith('hostguard_state_write_failing{') && l.endsWith(' 1'));
    expect(failing.length).toBe(1);
    expect(output.logged).toMatch(/cannot save the log position.*EROFS/);
    expect((await fetch(`${exporter.url}/healthz`)).status).toBe(200);
  }, 60_000);
});

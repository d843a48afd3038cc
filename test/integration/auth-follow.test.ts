import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';
import { eventually } from '../helpers/eventually.js';
import { ioOf, stopProcess } from '../helpers/processes.js';

const formats = [
  (pid: number, msg: string) => `Jan  5 10:00:00 web1 sshd[${pid}]: ${msg}`,
  (pid: number, msg: string) => `2024-01-05T10:00:00.123456+01:00 web1 sshd[${pid}]: ${msg}`,
  (pid: number, msg: string) => `<38>1 2024-01-05T10:00:00.123Z web1 sshd ${pid} - - ${msg}`,
];

/** Line i of the generated log, and the failed attempts it stands for. */
function logLine(i: number): { text: string; attempts: number } {
  const format = formats[i % 3]!;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  switch (i % 10) {
    case 0:
      return { text: format(i, `Failed password for root from ${ip} port 22 ssh2`), attempts: 1 };
    case 1:
      return {
        text: format(i, `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=root`),
        attempts: 0,
      };
    case 2:
      return {
        text: format(i, `message repeated 3 times: [ Failed password for invalid user x${i} from ${ip} port 22 ssh2]`),
        attempts: 3,
      };
    case 3:
      return { text: format(i, `Accepted publickey for root from ${ip} port 22 ssh2`), attempts: 0 };
    case 4:
      return {
        text: `Jan  5 10:00:00 web1 CRON[${i}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
        attempts: 0,
      };
    case 5:
      return {
        text: `Jan  5 10:00:00 web1 sudo: operator : 2 incorrect password attempts ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/true`,
        attempts: 2,
      };
    case 6:
      return { text: format(i, `Connection closed by ${ip} port 22 [preauth]`), attempts: 0 };
    case 7:
      return { text: format(i, `Failed publickey for root from ${ip} port 22 ssh2`), attempts: 1 };
    case 8:
      return { text: `\u0000\u0001 not a syslog line ${i}`, attempts: 0 };
    default:
      return { text: format(i, `Invalid user u${i} from ${ip} port 22`), attempts: 1 };
  }
}

/** Writes numbered log lines and remembers how many lines and attempts it wrote. */
class LogWriter {
  next = 0;
  attempts = 0;
  write(path: string | number, count: number): void {
    const lines: string[] = [];
    for (let n = 0; n < count; n++, this.next++) {
      const line = logLine(this.next);
      lines.push(line.text + '\n');
      this.attempts += line.attempts;
    }
    if (typeof path === 'number') writeSync(path, lines.join(''));
    else appendFileSync(path, lines.join(''));
  }
}

/** logrotate's copytruncate: copy to path.1 (after the shift), then truncate the original in place. */
function copyTruncate(path: string): void {
  if (existsSync(`${path}.1`)) renameSync(`${path}.1`, `${path}.2`);
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  lines: number;
  failures: number;
}

async function seen(exporter: RunningExporter, source: string): Promise<Seen> {
  const samples = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
  return {
    lines: sampleValue(samples, 'hostguard_auth_lines_read_total', { source }) ?? 0,
    failures: samples.filter((s) => s.name === 'hostguard_auth_failures_total').reduce((sum, s) => sum + s.value, 0),
  };
}

/** Scrape until this exporter has read `lines` lines (each scrape first reads what is written). */
async function caughtUp(exporter: RunningExporter, source: string, lines: number): Promise<Seen> {
  return eventually(
    async () => {
      const now = await seen(exporter, source);
      return now.lines >= lines && now;
    },
    { timeoutMs: 90_000, what: `${lines} lines read` },
  );
}

/** logrotate's numbered shift: path.1 → path.2, path → path.1. */
function shift(path: string): void {
  if (existsSync(`${path}.1`)) renameSync(`${path}.1`, `${path}.2`);
  renameSync(path, `${path}.1`);
}

describe('following an auth log through rotation, truncation and restarts', () => {
  it('counts exactly the failures written: 100,000 lines, rename and copytruncate rotations, a truncation and two restarts', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${log}\n`);
    const args = ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.auth'];

    // History from before the exporter was installed: a first start begins at the end.
    const history = new LogWriter();
    history.write(log, 1000);
    const writer = new LogWriter();
    writer.next = 1_000_000;
    const runs: Seen[] = [];
    let readBefore = 0;

    const a = await startExporter(args);
    for (let n = 0; n < 15; n++) {
      writer.write(log, 1000);
      await sleep(5);
    }
    // Rename rotation; the writer keeps appending to the old file for a while, then reopens.
    const late = openSync(log, 'a');
    shift(log);
    writer.write(late, 2000);
    writer.write(log, 10_000);
    await sleep(50);
    writer.write(late, 1000);
    closeSync(late);
    // Rotations are further apart than one poll; a rotation and a copytruncate within 250 ms would
    // truncate lines of a file never seen (tail -F loses those too).
    await caughtUp(a, log, writer.next - 1_000_000);
    // copytruncate, right after a write: those lines reach the exporter only through the copy.
    writer.write(log, 5000);
    copyTruncate(log);
    writer.write(log, 1000);
    runs.push(await caughtUp(a, log, writer.next - 1_000_000));
    expect(runs[0]!.lines).toBe(writer.next - 1_000_000);
    readBefore = runs[0]!.lines;
    await stopProcess(a.child);

    // While stopped: more lines, then a rename rotation, then lines in the new file.
    writer.write(log, 5000);
    shift(log);
    writer.write(log, 5000);
    const b = await startExporter(args);
    writer.write(log, 10_000);
    await caughtUp(b, log, writer.next - 1_000_000 - readBefore);
    // Plain truncation (nothing unread is lost: the exporter is caught up), then more lines.
    truncateSync(log, 0);
    writer.write(log, 10_000);
    runs.push(await caughtUp(b, log, writer.next - 1_000_000 - readBefore));
    readBefore += runs[1]!.lines;
    await stopProcess(b.child);

    // While stopped: lines, then copytruncate, then lines in the truncated file.
    writer.write(log, 5000);
    copyTruncate(log);
    writer.write(log, 3000);
    const c = await startExporter(args);
    for (let n = 0; writer.next - 1_000_000 < 100_000; n++) {
      writer.write(log, Math.min(2000, 100_000 - (writer.next - 1_000_000)));
      await sleep(5);
    }
    runs.push(await caughtUp(c, log, 100_000 - readBefore));

    expect(writer.next - 1_000_000).toBe(100_000);
    expect(runs.reduce((sum, r) => sum + r.lines, 0)).toBe(100_000);
    expect(runs.reduce((sum, r) => sum + r.failures, 0)).toBe(writer.attempts);
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    expect(sampleValue(metrics, 'hostguard_auth_source_healthy', { source: log, type: 'file' })).toBe(1);
    expect(sampleValue(metrics, 'hostguard_auth_source_gaps_total', { source: log })).toBe(0);
    expect(sampleValue(metrics, 'hostguard_auth_source_rotations_total', { source: log, kind: 'truncate' })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('follows the sources of a reloaded policy: a new one starts, a removed one stops', async () => {
    const dir = tempDir();
    const first = join(dir, 'first.log');
    const second = join(dir, 'second.log');
    writeFileSync(first, '');
    writeFileSync(second, '');
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${first}\n`);
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    new LogWriter().write(first, 10);
    expect((await seen(exporter, first)).lines).toBe(10);
    writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${second}\n      start_at: beginning\n`);
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    new LogWriter().write(second, 20);
    new LogWriter().write(first, 5);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(metrics, 'hostguard_auth_lines_read_total', { source: second })).toBe(20);
    expect(sampleValue(metrics, 'hostguard_auth_lines_read_total', { source: first })).toBe(10);
    expect(sampleValue(metrics, 'hostguard_auth_source_healthy', { source: first, type: 'file' })).toBeUndefined();
  });

  it('a reload naming the detected auth.log explicitly, then changing only its start_at, keeps reading where it was: every line counted once', async () => {
    const dir = tempDir();
    const root = join(dir, 'root');
    mkdirSync(join(root, 'var', 'log'), { recursive: true });
    const log = join(root, 'var', 'log', 'auth.log');
    writeFileSync(log, '');
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'auth:\n  top_sources: 0\n');
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--path.rootfs',
      root,
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    const source = '/var/log/auth.log';
    const writer = new LogWriter();
    const reload = async (text: string): Promise<void> => {
      // Lines the background follower reads after the last scrape, so after the last checkpoint:
      // with no scrape meanwhile, the exporter has read at least as many bytes as were written.
      const before = { size: statSync(log).size, read: ioOf(exporter.child.pid!).read };
      writer.write(log, 5);
      const written = statSync(log).size - before.size;
      await eventually(() => ioOf(exporter.child.pid!).read - before.read >= written, { what: 'the 5 lines read by the follower' });
      writeFileSync(policy, text);
      expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    };
    writer.write(log, 10);
    expect((await seen(exporter, source)).lines).toBe(10);
    await reload(`auth:\n  sources:\n    - type: file\n      path: ${source}\n`);
    await reload(`auth:\n  sources:\n    - type: file\n      path: ${source}\n      start_at: beginning\n`);
    writer.write(log, 5);
    const now = await seen(exporter, source);
    expect(now.lines).toBe(25);
    expect(now.failures).toBe(writer.attempts);
  });
});

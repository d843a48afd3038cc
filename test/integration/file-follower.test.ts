import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  copyFileSync,
} from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { FileFollower, type FileFollowerOptions } from '../../src/tail/file-follower.js';
import { cliPath, repoRoot, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';

/** A follower that collects every line it is given, on a real file. */
function follow(dir: string, options: Partial<FileFollowerOptions> = {}): { follower: FileFollower; lines: string[]; path: string } {
  const lines: string[] = [];
  const path = join(dir, 'auth.log');
  const follower = new FileFollower({
    path,
    stateFile: join(dir, 'state', 'position.json'),
    startAt: 'beginning',
    log: silentLogger,
    rotateWaitMs: 0,
    onLines: (batch) => lines.push(...batch),
    ...options,
  });
  return { follower, lines, path };
}

const numbered = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');
const expected = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

describe('following a log file like tail -F', () => {
  it('reads the rest of a renamed file, including lines its writer appends after the rename, then the new file', () => {
    const dir = tempDir();
    const { follower, lines, path } = follow(dir, { rotateWaitMs: 60_000 });
    writeFileSync(path, numbered(0, 10));
    follower.poll();
    const writer = openSync(path, 'a');
    writeSync(writer, numbered(10, 15));
    renameSync(path, `${path}.1`);
    writeFileSync(path, numbered(100, 105));
    follower.poll();
    // The old writer has not reopened yet: its lines still land in auth.log.1.
    writeSync(writer, numbered(15, 20));
    closeSync(writer);
    follower.poll();
    expect([...lines].sort()).toEqual([...expected(0, 20), ...expected(100, 105)].sort());
    expect(follower.stats.renameRotations).toBe(1);
  });

  it('after copytruncate, takes the lines written before the truncation from the copy, and none twice', () => {
    const dir = tempDir();
    const { follower, lines, path } = follow(dir);
    writeFileSync(path, numbered(0, 10));
    follower.poll();
    appendFileSync(path, numbered(10, 20) + 'partial li');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, numbered(20, 25));
    follower.poll();
    expect(lines).toEqual([...expected(0, 20), 'partial li', ...expected(20, 25)]);
    expect(follower.stats.truncations).toBe(1);
  });

  it('starts over after a plain truncation, also when the file regrew past the old offset', () => {
    const dir = tempDir();
    const { follower, lines, path } = follow(dir);
    writeFileSync(path, numbered(0, 5));
    follower.poll();
    writeFileSync(path, numbered(1000, 1010));
    follower.poll();
    expect(lines).toEqual([...expected(0, 5), ...expected(1000, 1010)]);
    expect(follower.stats.truncations).toBe(1);
  });

  it('begins at the end on a first start, skipping a half-written last line', () => {
    const dir = tempDir();
    const path = join(dir, 'auth.log');
    writeFileSync(path, numbered(0, 5) + 'half');
    const { follower, lines } = follow(dir, { startAt: 'end' });
    follower.poll();
    appendFileSync(path, ' done\n' + numbered(5, 7));
    follower.poll();
    expect(lines).toEqual(expected(5, 7));
  });

  it('resumes after a restart exactly where it stopped, across a rotation and a compressed-away file', async () => {
    const dir = tempDir();
    const first = follow(dir);
    writeFileSync(first.path, numbered(0, 10) + 'half');
    first.follower.poll();
    await first.follower.stop();
    // While stopped: the line is finished, more lines come, the file is rotated and a new one started.
    appendFileSync(first.path, ' line\n' + numbered(10, 20));
    renameSync(first.path, `${first.path}.1`);
    writeFileSync(first.path, numbered(20, 30));
    const second = follow(dir);
    second.follower.poll();
    expect(second.lines).toEqual(['half line', ...expected(10, 30)]);
    await second.follower.stop();
    // Stopped again; this time the rotated file is compressed (gone) before the restart.
    appendFileSync(first.path, numbered(30, 35));
    renameSync(first.path, `${first.path}.2`);
    spawnSync('gzip', [`${first.path}.2`]);
    writeFileSync(first.path, numbered(40, 45));
    const third = follow(dir);
    third.follower.poll();
    expect(third.lines).toEqual(expected(40, 45));
    expect(third.follower.stats.gaps).toBe(1);
    await third.follower.stop();
  });

  it('counts a gap when a rotated file still half-read at stop is compressed away before the restart', async () => {
    const dir = tempDir();
    const options = { rotateWaitMs: 60_000, chunkBytes: 1024 };
    const first = follow(dir, options);
    writeFileSync(first.path, numbered(0, 10));
    first.follower.poll();
    // Renamed and replaced; the old writer appends a backlog to the rotated file before it reopens.
    const writer = openSync(first.path, 'a');
    renameSync(first.path, `${first.path}.1`);
    writeFileSync(first.path, numbered(100, 105));
    first.follower.poll();
    writeSync(writer, numbered(10, 5000));
    closeSync(writer);
    expect(first.follower.poll(4096)).toBe(false);
    await first.follower.stop();
    spawnSync('gzip', [`${first.path}.1`]);
    const second = follow(dir, options);
    second.follower.poll();
    expect(second.follower.stats.gaps).toBe(1);
    await second.follower.stop();
  });

  it('a copytruncate found while following is read within the poll budget, every line once and in order', async () => {
    const dir = tempDir();
    let next = 0;
    let outOfOrder = 0;
    const { follower, path } = follow(dir, {
      onLines: (batch) => {
        for (const line of batch) if (line !== `line ${next++}`) outOfOrder++;
      },
    });
    writeFileSync(path, numbered(0, 10));
    follower.poll();
    // A 100 MB unread tail (13-byte lines), then copytruncate and new lines in the emptied file.
    const total = 8_000_000;
    const fd = openSync(path, 'a');
    // Written in pieces with a turn of the event loop between them: a loaded machine takes long
    // over 100 MB, and the test worker must still answer its runner meanwhile.
    for (let from = 10; from < total; from += 500_000) {
      writeSync(fd, numbered(from, Math.min(total, from + 500_000)));
      await yieldToEventLoop();
    }
    closeSync(fd);
    await copyFile(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, numbered(total, total + 5));
    const budget = 8 * 1024 * 1024;
    const before = follower.stats.linesRead;
    expect(follower.poll(budget)).toBe(false);
    // At most the budget and one 64 KiB read, in lines of at least 8 bytes: an eighth of the tail.
    expect(follower.stats.linesRead - before).toBeLessThan((budget + 64 * 1024) / 8);
    for (let polls = 0; !follower.poll(budget); polls++) {
      expect(polls).toBeLessThan(100);
      await yieldToEventLoop();
    }
    expect(outOfOrder).toBe(0);
    expect(next).toBe(total + 5);
    expect(follower.stats.linesRead).toBe(total + 5);
    await follower.stop();
  }, 180_000);

  it('does not mistake a new file on a reused inode for the old one', async () => {
    const dir = tempDir();
    const first = follow(dir);
    writeFileSync(first.path, numbered(0, 50));
    first.follower.poll();
    await first.follower.stop();
    // Same path, same inode (truncate in place), different content: the fingerprint tells.
    writeFileSync(first.path, 'another first line\n' + numbered(50, 100));
    const second = follow(dir);
    second.follower.poll();
    expect(second.lines).toEqual(['another first line', ...expected(50, 100)]);
  });

  // How much heap reading the 10 MB line takes is a figure: `npm run bench -- responsiveness`.
  it('keeps counting through binary junk, invalid UTF-8 and a 10 MB line, cut to 16 KiB', () => {
    const dir = tempDir();
    const { follower, lines, path } = follow(dir);
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256).filter((b) => b !== 0x0a));
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('before\n'),
        junk,
        Buffer.from('\n'),
        Buffer.alloc(10 * 1024 * 1024, 0x78),
        Buffer.from('\nafter\n'),
        Buffer.from([0xc3, 0x28, 0x0a]),
      ]),
    );
    follower.poll();
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('before');
    expect(lines[2]).toHaveLength(16 * 1024);
    expect(lines[3]).toBe('after');
    expect(lines[4]).toBe('\ufffd(');
    expect(follower.stats.truncatedLines).toBe(1);
  });

  it('reports a file that disappears as missing, and reads it again from the start when it returns', () => {
    const dir = tempDir();
    const { follower, lines, path } = follow(dir);
    writeFileSync(path, numbered(0, 3));
    follower.poll();
    unlinkSync(path);
    follower.poll();
    expect(follower.status()).toMatchObject({ health: 'missing', reason: expect.stringContaining('ENOENT') });
    writeFileSync(path, numbered(3, 6));
    follower.poll();
    expect(follower.status().health).toBe('ok');
    expect(lines).toEqual(expected(0, 6));
    rmSync(path);
    mkdirSync(path);
    follower.poll();
    expect(follower.status().health).not.toBe('ok');
  });

  it('reports a file that becomes unreadable (exporter not running as root) and keeps reading what it has open', () => {
    const dir = tempDir();
    chmodSync(dir, 0o777);
    const path = join(dir, 'auth.log');
    writeFileSync(path, numbered(0, 3));
    chownSync(path, 65534, 65534);
    const script = join(dir, 'probe.mjs');
    // Runs as nobody: reads, then the file is made unreadable, then more lines arrive.
    writeFileSync(
      script,
      `import { FileFollower } from ${JSON.stringify(join(repoRoot, 'dist/tail/file-follower.js'))};
import { silentLogger } from ${JSON.stringify(join(repoRoot, 'dist/log/logger.js'))};
import { appendFileSync, chmodSync } from 'node:fs';
const lines = [];
const f = new FileFollower({ path: ${JSON.stringify(path)}, startAt: 'beginning', log: silentLogger, onLines: (b) => lines.push(...b) });
f.poll();
chmodSync(${JSON.stringify(path)}, 0o200);
appendFileSync(${JSON.stringify(path)}, 'line 3\\n');
f.poll();
console.log(JSON.stringify({ lines, status: f.status() }));
`,
    );
    const run = spawnSync(process.execPath, [script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: dir });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as { lines: string[]; status: { health: string; reason: string } };
    expect(out.lines).toEqual(expected(0, 4));
    expect(out.status).toMatchObject({ health: 'unreadable', reason: expect.stringContaining('EACCES') });
    expect(cliPath).toContain('dist');
  });

  it('stops within a slice with a 96 MiB backlog, and a restart continues exactly where it stopped', async () => {
    const dir = tempDir();
    const path = join(dir, 'auth.log');
    // 16-byte numbered lines: 6.3 million of them, 96 MiB, twelve slices of reading.
    const perChunk = 1 << 20;
    const chunks = 6;
    const fd = openSync(path, 'w');
    const chunk = Buffer.alloc(perChunk * 16);
    for (let c = 0; c < chunks; c++) {
      for (let i = 0; i < perChunk; i++) chunk.write(String(c * perChunk + i).padStart(15, '0') + '\n', i * 16, 'latin1');
      writeSync(fd, chunk);
      await yieldToEventLoop();
    }
    closeSync(fd);
    const total = chunks * perChunk;
    let next = 0;
    let outOfOrder = 0;
    const check = (batch: readonly string[]): void => {
      for (const line of batch) if (Number(line) !== next++) outOfOrder++;
    };
    const options = {
      path,
      stateFile: join(dir, 'state', 'position.json'),
      startAt: 'beginning' as const,
      log: silentLogger,
      onLines: check,
    };

    const first = new FileFollower(options);
    first.start();
    await eventually(() => first.stats.linesRead > 0, { intervalMs: 5, what: 'the first lines read' });
    // stop() ends the read at its current slice: most of the backlog is left for the restart.
    // (How soon it returns is a figure: `npm run bench -- responsiveness`.)
    await first.stop();
    expect(first.stats.linesRead).toBeLessThan(total / 2);

    const second = new FileFollower(options);
    await second.catchUp(Number.POSITIVE_INFINITY);
    await second.stop();
    expect(outOfOrder).toBe(0);
    expect(next).toBe(total);
    expect(first.stats.linesRead + second.stats.linesRead).toBe(total);
  }, 180_000);
});

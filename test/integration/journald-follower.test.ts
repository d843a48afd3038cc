import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournaldFollower, type JournaldFollowerOptions } from '../../src/auth/journald-follower.js';
import { silentLogger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/cli.js';
import { appendToJournal, exportEntries, journalctlChildren, journalDirIn } from '../helpers/journal.js';
import { requireTool } from '../helpers/tools.js';

const following: JournaldFollower[] = [];
afterEach(async () => {
  await Promise.all(following.splice(0).map((f) => f.stop()));
});

/** A follower of `journalDir` as the auth collector runs one (cursor saved only at checkpoints), counting what it reads by message. */
function follow(journalDir: string, cursorFile: string, startAt: JournaldFollowerOptions['startAt'], onEntry: (message: string) => void = () => {}) {
  const read = new Map<string, number>();
  const counts = { notJson: 0 };
  const follower = new JournaldFollower({
    path: journalDir,
    rootfs: '/',
    identifiers: ['sshd'],
    cursorFile,
    startAt,
    persistMode: 'checkpoint',
    log: silentLogger,
    onEntry: (entry) => {
      read.set(entry.record.message, (read.get(entry.record.message) ?? 0) + 1);
      onEntry(entry.record.message);
    },
    onNotJson: () => counts.notJson++,
  });
  following.push(follower);
  follower.start();
  return { follower, read, counts };
}

/** The journalctl --follow this process runs (not a lookup of the journal's end). */
function followingJournalctl(): number[] {
  return journalctlChildren(process.pid)
    .filter((c) => c.args.includes('--follow'))
    .map((c) => c.pid);
}

async function until(done: () => boolean, timeoutMs = 15_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
}

function attempts(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `Failed password for root from 192.0.2.1 port ${from + i} ssh2`);
}

describe('journalctl exiting before any cursor was saved', () => {
  it('is started again after the last entry read: a backlog of 3000 entries is read whole, each entry once', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir, journal } = journalDirIn(dir);
    const messages = attempts(0, 3000);
    appendToJournal(journal, exportEntries(dir, 'backlog.export', messages));
    const cursorFile = join(dir, 'cursor.json');

    // Killed as the 100th entry arrives: journalctl has written more into the pipe, likely ending mid-line.
    let killed: number[] = [];
    const { follower, read, counts } = follow(journalDir, cursorFile, 'beginning', () => {
      if (read.size === 100 && killed.length === 0) {
        killed = followingJournalctl();
        for (const pid of killed) process.kill(pid, 'SIGKILL');
      }
    });
    await until(() => read.size === messages.length && follower.restarts === 1);

    expect(killed).toHaveLength(1);
    expect(existsSync(cursorFile)).toBe(false);
    expect(follower.restarts).toBe(1);
    expect(read.size).toBe(messages.length);
    expect([...read.values()].filter((n) => n !== 1)).toEqual([]);
    // A line cut off by the kill is read again whole, not counted as a line that is not JSON.
    expect(counts.notJson).toBe(0);
    expect(follower.linesRead).toBe(messages.length);
  });

  it('killed before printing anything, it resumes from the starting point recorded at start: what was logged meanwhile is read once', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir, journal } = journalDirIn(dir);
    appendToJournal(journal, exportEntries(dir, 'before.export', attempts(0, 20)));
    const cursorFile = join(dir, 'cursor.json');
    const { follower, read } = follow(journalDir, cursorFile, 'end');

    await until(() => followingJournalctl().length === 1);
    // The end of the journal as of the start, saved before journalctl was started.
    expect(existsSync(cursorFile)).toBe(true);
    for (const pid of followingJournalctl()) process.kill(pid, 'SIGKILL');
    await until(() => follower.restarts === 1);
    // Logged while journalctl is down: more than the 10 lines `journalctl --follow` shows by default.
    const meanwhile = attempts(100, 50);
    appendToJournal(journal, exportEntries(dir, 'meanwhile.export', meanwhile));
    await until(() => read.size === meanwhile.length);

    expect(follower.restarts).toBe(1);
    expect([...read.keys()].sort()).toEqual([...meanwhile].sort());
    expect([...read.values()].filter((n) => n !== 1)).toEqual([]);
  });
});

import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JournaldFollower, type JournaldFollowerOptions } from '../../src/auth/journald-follower.js';
import { silentLogger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { appendToJournal, childProcesses, exportEntries, journalDirIn, processExists } from '../helpers/journal.js';
import { requireTool } from '../helpers/tools.js';

const following: JournaldFollower[] = [];
afterEach(async () => {
  await Promise.all(following.splice(0).map((f) => f.stop()));
});

/** A follower of `journalDir` as the auth collector runs one (cursor saved only at checkpoints), counting what it reads by message. */
function follow(
  journalDir: string,
  cursorFile: string,
  startAt: JournaldFollowerOptions['startAt'],
  onEntry: (message: string) => void = () => {},
  journalctl?: string,
) {
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
    journalctl,
  });
  following.push(follower);
  follower.start();
  return { follower, read, counts };
}

/** The journalctl --follow this process runs (not a lookup of the journal's end). */
function followingJournalctl(): number[] {
  return childProcesses(process.pid)
    .filter((c) => c.comm === 'journalctl' && c.args.includes('--follow'))
    .map((c) => c.pid);
}

async function until(done: () => boolean): Promise<void> {
  await eventually(done, { intervalMs: 20 });
}

function attempts(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `Failed password for root from 192.0.2.1 port ${from + i} ssh2`);
}

/** A journal of its own in a fresh directory, already holding `count` failed logins; journalctl must be installed. */
function journalWithAttempts(count: number) {
  requireTool('journalctl', 'systemd');
  const dir = tempDir();
  const { journalDir, journal } = journalDirIn(dir);
  const messages = attempts(0, count);
  appendToJournal(journal, exportEntries(dir, 'first.export', messages));
  return { dir, journalDir, journal, messages, cursorFile: join(dir, 'cursor.json') };
}

describe('journalctl exiting before any cursor was saved', () => {
  it('is started again after the last entry read: a backlog of 3000 entries is read whole, each entry once', async () => {
    const { journalDir, messages, cursorFile } = journalWithAttempts(3000);

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
    const { dir, journalDir, journal, cursorFile } = journalWithAttempts(20);
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

/** A wrapper that runs the real journalctl (or, for the lookup of the journal's end, sleeps) ignoring SIGTERM, as a wedged one would. */
function stubbornJournalctl(dir: string, options: { slowLookup: boolean }): string {
  const wrapper = join(dir, 'journalctl');
  const lookup = options.slowLookup ? `case " $* " in *" --lines=1 "*) exec sleep 60;; esac\n` : '';
  writeFileSync(wrapper, `#!/bin/sh\ntrap '' TERM\n${lookup}exec journalctl "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/**
 * stop() with the follower's timers (the grace before SIGKILL, the abort of a lookup) on the
 * test's clock, advanced by `advanceMs`: it must have returned once the processes it ends are gone.
 */
async function stopAfter(follower: JournaldFollower, advanceMs: number): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    let stopped = false;
    const stopping = follower.stop().then(() => (stopped = true));
    if (advanceMs > 0) await vi.advanceTimersByTimeAsync(advanceMs);
    await eventually(() => stopped, { what: `stop() with ${advanceMs} ms of the follower's time passed` });
    await stopping;
  } finally {
    vi.useRealTimers();
  }
}

/** How long stop() waits for a journalctl that ignores SIGTERM (src/auth/journald-follower.ts). */
const stopGraceMs = 500;

describe('stopping the journald follower', () => {
  it('ends journalctl at once and leaves no journalctl process behind', async () => {
    const { journalDir, cursorFile } = journalWithAttempts(20);
    const { follower, read } = follow(journalDir, cursorFile, 'beginning');
    await until(() => read.size === 20);
    const pids = followingJournalctl();
    expect(pids).toHaveLength(1);

    // journalctl ends on SIGTERM: stop() returns with none of the grace passed.
    await stopAfter(follower, 0);
    expect(pids.filter(processExists)).toEqual([]);
    expect(childProcesses(process.pid).filter((c) => c.comm === 'journalctl')).toEqual([]);
  });

  it('kills a journalctl that ignores SIGTERM after a short grace, not seconds later', async () => {
    const { dir, journalDir, cursorFile } = journalWithAttempts(20);
    const { follower, read } = follow(journalDir, cursorFile, 'beginning', undefined, stubbornJournalctl(dir, { slowLookup: false }));
    await until(() => read.size === 20);
    const pids = followingJournalctl();
    expect(pids).toHaveLength(1);

    // SIGKILL once the grace has passed, not a moment of the follower's time later.
    await stopAfter(follower, stopGraceMs);
    expect(pids.filter(processExists)).toEqual([]);
  });

  it("does not wait for a slow lookup of the journal's end, and ends it too", async () => {
    const { dir, journalDir, cursorFile } = journalWithAttempts(20);
    const { follower } = follow(journalDir, cursorFile, 'end', undefined, stubbornJournalctl(dir, { slowLookup: true }));
    await until(() => childProcesses(process.pid).some((c) => c.comm === 'sleep'));
    const lookups = childProcesses(process.pid).map((c) => c.pid);
    expect(lookups).toHaveLength(1);

    await stopAfter(follower, stopGraceMs);
    expect(lookups.filter(processExists)).toEqual([]);
    expect(followingJournalctl()).toEqual([]);
    // No end was found, so none is saved: the next start looks for it again.
    expect(existsSync(cursorFile)).toBe(false);
  });
});

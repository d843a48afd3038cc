import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { journalctlArgs, journalFields } from '../../src/auth/journald-follower.js';
import { startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';
import { appendToJournal, childProcesses, exportEntries, journalDirIn, nextTimestamps } from '../helpers/journal.js';
import { eventually } from '../helpers/eventually.js';
import { ioOf, stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'auth');

async function metrics(exporter: RunningExporter): Promise<ReturnType<typeof parseExposition>> {
  return parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
}

function failures(samples: ReturnType<typeof parseExposition>): number {
  return samples.filter((s) => s.name === 'hostguard_auth_failures_total').reduce((sum, s) => sum + s.value, 0);
}

function successes(samples: ReturnType<typeof parseExposition>): number {
  return samples.filter((s) => s.name === 'hostguard_auth_successes_total').reduce((sum, s) => sum + s.value, 0);
}

/** Scrape until `done` holds (each scrape publishes what has been read); the samples that satisfied it. */
async function until(
  exporter: RunningExporter,
  done: (samples: ReturnType<typeof parseExposition>) => boolean,
): Promise<ReturnType<typeof parseExposition>> {
  return eventually(
    async () => {
      const samples = await metrics(exporter);
      return done(samples) && samples;
    },
    { timeoutMs: 60_000, what: 'the expected counts' },
  );
}

/**
 * The last entry of a batch: a successful login. journalctl gives entries in journal order, so once
 * the successes reach their count every entry before the marker has been read, and a count that is
 * still to grow (an entry read twice, before or after its turn) has shown itself.
 */
const marker = 'Accepted publickey for root from 192.0.2.99 port 22 ssh2';

/** Entries logged now (with the marker last), for systemd-journal-remote. */
function batch(dir: string, name: string, messages: readonly string[]): string {
  return exportEntries(dir, name, [...messages, marker]);
}

/** Entries logged while the exporter is down (`logged`, marker last) are counted once it is started again: exactly `expected` failures. */
async function countedAfterRestart(args: string[], journal: string, logged: string, expected: number): Promise<void> {
  appendToJournal(journal, logged);
  const exporter = await startExporter(args);
  const samples = await until(exporter, (s) => successes(s) >= 1);
  expect([failures(samples), successes(samples)]).toEqual([expected, 1]);
  await stopProcess(exporter.child);
}

/** A policy that follows the journal in `journalDir` from its beginning (`extra`: more lines of the source), and the exporter's arguments for it. */

function followJournal(
  dir: string,
  journalDir: string,
  extra = '',
  startAt: 'beginning' | 'end' = 'beginning',
): { args: string[]; write(extra: string): void } {
  const policy = join(dir, 'policy.yml');
  const write = (more: string) =>
    writeFileSync(policy, `auth:\n  sources:\n    - type: journald\n      path: ${journalDir}\n      start_at: ${startAt}\n${more}`);
  write(extra);
  return { args: ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.auth'], write };
}

describe('reading the journal with the real journalctl', () => {
  it('follows a journal, counts attempts, and resumes after its cursor on restart without recounting', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    // A journal directory, as journald keeps one: systemd-journal-remote rotates the file (to
    // system@...journal~) when it appends after a restart, as journald does, and journalctl
    // --directory follows across that.
    const { journalDir, journal } = journalDirIn(dir);
    appendToJournal(journal, join(fixtures, 'journal.export'));
    const { args } = followJournal(dir, journalDir);
    const source = `journald:${journalDir}`;

    const first = await startExporter(args);
    // The recorded entries hold 8 attempts (see the journal reader's unit test); systemd-logind's line is read too.
    let samples = await until(first, (s) => failures(s) >= 8);
    expect(failures(samples)).toBe(8);
    expect(
      sampleValue(samples, 'hostguard_auth_failures_total', { service: 'sudo', reason: 'incorrect_password', user_class: 'invalid' }),
    ).toBe(3);
    expect(sampleValue(samples, 'hostguard_auth_source_healthy', { source, type: 'journald' })).toBe(1);

    // journald appends while we follow.
    appendToJournal(
      journal,
      exportEntries(dir, 'more.export', [
        'Failed password for root from 192.0.2.77 port 22 ssh2',
        'Failed password for root from 192.0.2.78 port 22 ssh2',
      ]),
    );
    samples = await until(first, (s) => failures(s) >= 10);
    expect(failures(samples)).toBe(10);
    expect(sampleValue(samples, 'hostguard_auth_lines_read_total', { source })).toBe(15);
    await stopProcess(first.child);

    // Written while the exporter is down: read after the restart, all of it (more than the 10
    // entries `journalctl --follow` shows by default), and nothing before it again.
    appendToJournal(
      journal,
      batch(
        dir,
        'down.export',
        Array.from({ length: 25 }, (_, i) => `Invalid user ghost from 192.0.2.79 port ${1000 + i}`),
      ),
    );
    const second = await startExporter(args);
    samples = await until(second, (s) => successes(s) >= 1);
    expect(failures(samples)).toBe(25);
    expect(sampleValue(samples, 'hostguard_auth_failures_total', { service: 'sshd', reason: 'invalid_user', user_class: 'invalid' })).toBe(
      25,
    );
    expect(sampleValue(samples, 'hostguard_auth_lines_read_total', { source })).toBe(25 + 1);
    expect(readdirSync(journalDir).length).toBeGreaterThan(1);
  });

  it('starting at the end saves that starting point at once: an entry logged while the exporter is down is counted once', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir, journal } = journalDirIn(dir);
    appendToJournal(journal, join(fixtures, 'journal.export'));
    const { args } = followJournal(dir, journalDir, '', 'end');
    const source = `journald:${journalDir}`;

    // Stopped before any entry was read: no cursor of a read entry exists yet.
    const first = await startExporter(args);
    const samples = await until(first, (s) => sampleValue(s, 'hostguard_auth_source_healthy', { source, type: 'journald' }) === 1);
    expect(failures(samples)).toBe(0);
    await stopProcess(first.child);

    await countedAfterRestart(args, journal, batch(dir, 'down.export', ['Failed password for root from 192.0.2.80 port 22 ssh2']), 1);
  });

  it('starting at the end of an empty journal remembers it was empty: what is logged while the exporter is down is counted', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir, journal } = journalDirIn(dir);
    const { args } = followJournal(dir, journalDir, '', 'end');
    // journalctl --follow refuses a journal without files (no boot ID) until one exists: only scrape once.
    const first = await startExporter(args);
    expect(failures(await metrics(first))).toBe(0);
    await stopProcess(first.child);

    await countedAfterRestart(
      args,
      journal,
      batch(dir, 'down.export', ['Failed password for root from 192.0.2.81 port 22 ssh2', 'Invalid user ghost from 192.0.2.82 port 22']),
      2,
    );
  });

  it('a journalctl that dies is started again after the last entry read and counted as a restart: nothing lost or counted twice', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir, journal } = journalDirIn(dir);
    appendToJournal(journal, join(fixtures, 'journal.export'));
    const source = `journald:${journalDir}`;
    const exporter = await startExporter(followJournal(dir, journalDir).args);
    let samples = await until(exporter, (s) => failures(s) >= 8);
    expect(sampleValue(samples, 'hostguard_auth_source_restarts_total', { source })).toBe(0);
    expect(sampleValue(samples, 'hostguard_auth_source_read_errors_total', { source })).toBe(0);

    const journalctl = childProcesses(exporter.child.pid!).filter((c) => c.comm === 'journalctl');
    expect(journalctl).toHaveLength(1);
    process.kill(journalctl[0]!.pid, 'SIGKILL');
    appendToJournal(
      journal,
      batch(
        dir,
        'meanwhile.export',
        Array.from({ length: 25 }, (_, i) => `Invalid user ghost from 192.0.2.79 port ${2000 + i}`),
      ),
    );
    // The recorded entries hold one success, the batch's marker the other.
    samples = await until(exporter, (s) => successes(s) >= 2);
    expect(sampleValue(samples, 'hostguard_auth_source_restarts_total', { source })).toBe(1);
    expect(failures(samples)).toBe(33);
    expect(sampleValue(samples, 'hostguard_auth_lines_read_total', { source })).toBe(13 + 25 + 1);
    expect(sampleValue(samples, 'hostguard_auth_source_healthy', { source, type: 'journald' })).toBe(1);
    expect(
      childProcesses(exporter.child.pid!)
        .filter((c) => c.comm === 'journalctl')
        .map((c) => c.pid),
    ).not.toContain(journalctl[0]!.pid);
  });

  it('reports a journal it cannot open as an unhealthy source and a finding', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  sources:\n    - type: journald\n      path: ${join(dir, 'absent.journal')}\n`);
    const exporter = await startExporter([
      '--state.dir',
      join(dir, 'state'),
      '--config.file',
      policy,
      '--collector.disable-defaults',
      '--collector.auth',
    ]);
    const source = `journald:${join(dir, 'absent.journal')}`;
    const samples = await until(
      exporter,
      (s) =>
        sampleValue(s, 'hostguard_auth_source_healthy', { source, type: 'journald' }) === 0 &&
        (sampleValue(s, 'hostguard_auth_source_restarts_total', { source }) ?? 0) >= 1,
    );
    expect(sampleValue(samples, 'hostguard_auth_source_healthy', { source, type: 'journald' })).toBe(0);
    expect(sampleValue(samples, 'hostguard_findings', { collector: 'auth', kind: 'source_unavailable' })).toBe(1);
    // journalctl said why it failed, and exited: it is started again, and counted each time.
    expect(sampleValue(samples, 'hostguard_auth_source_read_errors_total', { source })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'hostguard_auth_source_restarts_total', { source })).toBeGreaterThanOrEqual(1);
  });

  it('asks journalctl for the classified fields only: an entry with a 100 KiB sudo command line is still counted', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir } = journalDirIn(dir);
    const exportFile = join(dir, 'sudo.export');
    const longArgv = `sudo /bin/true ${'A'.repeat(100 * 1024)}`;
    writeFileSync(
      exportFile,
      [
        ...nextTimestamps(),
        '_BOOT_ID=6f1c0f0d2b7a4e0e9c1b1f7d2a3e4b5c',
        '_HOSTNAME=web1',
        'SYSLOG_IDENTIFIER=sudo',
        'SYSLOG_FACILITY=10',
        '_PID=4242',
        '_COMM=sudo',
        `_CMDLINE=${longArgv}`,
        'PRIORITY=5',
        'MESSAGE=operator : 2 incorrect password attempts ; TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/true',
        '',
      ].join('\n') + '\n',
    );
    appendToJournal(join(journalDir, 'system.journal'), exportFile);

    // What journalctl prints with our arguments: the fields the classifier reads, and its own.
    const args = journalctlArgs({ path: journalDir, rootfs: '/', identifiers: ['sshd', 'sudo'], startAt: 'beginning' }, undefined).filter(
      (a) => a !== '--follow',
    );
    const printed = execFileSync('journalctl', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
      .split('\n')
      .filter((l) => l !== '');
    expect(printed).toHaveLength(1);
    expect(printed[0]!.length).toBeLessThan(4096);
    const fields = Object.keys(JSON.parse(printed[0]!) as object).filter((k) => !k.startsWith('__') && k !== '_BOOT_ID');
    expect(fields.sort()).toEqual([...journalFields].filter((f) => f !== 'SYSLOG_PID').sort());

    const exporter = await startExporter(followJournal(dir, journalDir).args);
    const samples = await until(exporter, (s) => failures(s) >= 2);
    expect(
      sampleValue(samples, 'hostguard_auth_failures_total', { service: 'sudo', reason: 'incorrect_password', user_class: 'invalid' }),
    ).toBe(2);
    expect(sampleValue(samples, 'hostguard_auth_lines_truncated_total', { source: `journald:${journalDir}` }) ?? 0).toBe(0);
  });

  it('a reload that changes the identifiers restarts journalctl after the last entry read: nothing counted twice', async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir, journal } = journalDirIn(dir);
    appendToJournal(journal, join(fixtures, 'journal.export'));
    const followed = followJournal(dir, journalDir);
    const exporter = await startExporter(followed.args);
    expect(failures(await until(exporter, (s) => failures(s) >= 8))).toBe(8);
    // Read by the exporter after the last scrape, so after the last saved cursor: journalctl has
    // written them, and the exporter (scraped by no one) has read at least as much from its pipe.
    const [journalctl] = childProcesses(exporter.child.pid!).filter((c) => c.comm === 'journalctl');
    const before = { journalctl: ioOf(journalctl!.pid).written, exporter: ioOf(exporter.child.pid!).read };
    appendToJournal(
      journal,
      exportEntries(dir, 'more.export', [
        'Failed password for root from 192.0.2.77 port 22 ssh2',
        'Failed password for root from 192.0.2.78 port 22 ssh2',
      ]),
    );
    await eventually(
      () => {
        const written = ioOf(journalctl!.pid).written - before.journalctl;
        return written > 0 && ioOf(exporter.child.pid!).read - before.exporter >= written;
      },
      { what: 'the two entries read from journalctl' },
    );
    followed.write('      identifiers: [sshd, sudo, login]\n');
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    appendToJournal(journal, batch(dir, 'after.export', ['Invalid user ghost from 192.0.2.79 port 22']));
    const samples = await until(exporter, (s) => successes(s) >= 2);
    expect(failures(samples)).toBe(11);
    expect(sampleValue(samples, 'hostguard_auth_lines_read_total', { source: `journald:${journalDir}` })).toBe(16 + 1);
  });
});

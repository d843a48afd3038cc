import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir, type RunningExporter } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { parseExposition, sampleValue, type Sample } from '../helpers/exposition.js';
import { appendToJournal, journalDirIn } from '../helpers/journal.js';
import { requireTool } from '../helpers/tools.js';

interface FindingsDocument {
  findings: { collector: string; kind: string; severity: string; subject: Record<string, string>; message: string }[];
}

async function metrics(exporter: RunningExporter): Promise<Sample[]> {
  return parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
}

async function tamperFindings(exporter: RunningExporter): Promise<FindingsDocument['findings']> {
  const doc = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
  return doc.findings.filter((f) => f.kind === 'log_tampered');
}

/** Scrape until `done` holds (each scrape first reads what was written), with a generous deadline. */
async function until(exporter: RunningExporter, done: (samples: Sample[]) => boolean, what: string): Promise<Sample[]> {
  return eventually(
    async () => {
      const samples = await metrics(exporter);
      return done(samples) && samples;
    },
    { intervalMs: 100, timeoutMs: 90_000, what },
  );
}

const linesRead = (samples: Sample[], source: string) => sampleValue(samples, 'hostguard_auth_lines_read_total', { source }) ?? 0;
const tampered = (samples: Sample[], source: string) =>
  samples
    .filter((s) => s.name === 'hostguard_auth_log_tampering_total' && s.labels.source === source && s.value > 0)
    .map((s) => s.labels.kind);

function line(i: number): string {
  return `2024-01-05T10:00:${String(i % 60).padStart(2, '0')}.000000+00:00 web1 sshd[${1000 + i}]: Failed password for root from 192.0.2.${i % 250} port 22 ssh2\n`;
}

/** Writes numbered lines to several logs and remembers how many each got. */
class Logs {
  readonly written = new Map<string, number>();
  constructor(readonly paths: readonly string[]) {
    for (const p of paths) writeFileSync(p, '');
  }
  append(path: string, n: number): void {
    const from = this.written.get(path) ?? 0;
    appendFileSync(path, Array.from({ length: n }, (_, i) => line(from + i)).join(''));
    this.written.set(path, from + n);
  }
  appendAll(n: number): void {
    for (const p of this.paths) this.append(p, n);
  }
  /** Every source has been read up to what was written to it. */
  caughtUp(samples: Sample[]): boolean {
    return this.paths.every((p) => linesRead(samples, p) >= (this.written.get(p) ?? 0));
  }
}

function followFiles(dir: string, paths: readonly string[]): string[] {
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, `auth:\n  sources:\n${paths.map((p) => `    - type: file\n      path: ${p}\n`).join('')}`);
  return ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.auth'];
}

/** logrotate itself, forced, with one stanza for `path`. */
function logrotate(dir: string, path: string, directives: readonly string[]): void {
  const conf = join(dir, `${path.split('/').pop()}.logrotate`);
  writeFileSync(conf, `${path} {\n  rotate 4\n  missingok\n${directives.map((d) => `  ${d}\n`).join('')}}\n`);
  execFileSync(requireTool('logrotate', 'logrotate'), ['--force', '--state', join(dir, 'logrotate.status'), conf]);
}

describe('auth logs destroyed outside a rotation are a critical finding', () => {
  it("logrotate's rotations stay quiet: create, create with compress (with and without delaycompress), copytruncate, copytruncate with compress", async () => {
    const dir = tempDir();
    const variants: Record<string, string[]> = {
      'create.log': ['create'],
      'compress.log': ['create', 'compress'],
      'delaycompress.log': ['create', 'compress', 'delaycompress'],
      'copytruncate.log': ['copytruncate'],
      'copytruncate-compress.log': ['copytruncate', 'compress'],
    };
    const logs = new Logs(Object.keys(variants).map((name) => join(dir, name)));
    const exporter = await startExporter(followFiles(dir, logs.paths));
    logs.appendAll(50);
    await until(exporter, (s) => logs.caughtUp(s), 'the first lines');
    // Twice, so the second compresses the first rotation's file too (delaycompress).
    for (let round = 0; round < 2; round++) {
      for (const path of logs.paths) logrotate(dir, path, variants[path.split('/').pop()!]!);
      logs.appendAll(20);
      await until(exporter, (s) => logs.caughtUp(s), `the lines after rotation ${round + 1}`);
    }
    expect(
      readdirSync(dir)
        .filter((n) => n.endsWith('.gz'))
        .sort(),
    ).toEqual([
      'compress.log.1.gz',
      'compress.log.2.gz',
      'copytruncate-compress.log.1.gz',
      'copytruncate-compress.log.2.gz',
      'delaycompress.log.2.gz',
    ]);
    const samples = await metrics(exporter);
    for (const path of logs.paths) {
      expect(tampered(samples, path), path).toEqual([]);
      expect(sampleValue(samples, 'hostguard_auth_log_tampering_total', { source: path, kind: 'truncated' }), path).toBe(0);
      expect(linesRead(samples, path), path).toBe(90);
    }
    expect(sampleValue(samples, 'hostguard_auth_source_rotations_total', { source: join(dir, 'copytruncate.log'), kind: 'truncate' })).toBe(
      2,
    );
    expect(await tamperFindings(exporter)).toEqual([]);
  }, 120_000);

  it('`> auth.log`, rm, shred -u, a replacement and `ln -sf /dev/null` are each a log_tampered finding of their kind', async () => {
    const dir = tempDir();
    const [truncated, removed, shredded, replaced, nulled] = [
      'truncated.log',
      'removed.log',
      'shredded.log',
      'replaced.log',
      'nulled.log',
    ].map((n) => join(dir, n)) as [string, string, string, string, string];
    const logs = new Logs([truncated, removed, shredded, replaced, nulled]);
    const exporter = await startExporter(followFiles(dir, logs.paths));
    logs.appendAll(40);
    await until(exporter, (s) => logs.caughtUp(s), 'the first lines');
    expect(await tamperFindings(exporter)).toEqual([]);

    execFileSync('sh', ['-c', `: > '${truncated}'`]);
    execFileSync('rm', [removed]);
    execFileSync(requireTool('shred', 'coreutils'), ['-u', shredded]);
    writeFileSync(`${replaced}.new`, line(0));
    renameSync(`${replaced}.new`, replaced);
    execFileSync('ln', ['-sf', '/dev/null', nulled]);

    const samples = await until(exporter, (s) => logs.paths.every((p) => tampered(s, p).length > 0), 'every tampering');
    expect(tampered(samples, truncated)).toEqual(['truncated']);
    expect(tampered(samples, removed)).toEqual(['deleted']);
    // shred overwrites in place, then renames and unlinks: whichever the follower saw first.
    expect(['truncated', 'deleted']).toContain(tampered(samples, shredded)[0]);
    expect(tampered(samples, replaced)).toEqual(['replaced']);
    expect(tampered(samples, nulled)).toEqual(['not_regular']);
    const findings = await tamperFindings(exporter);
    expect(findings.map((f) => [f.severity, f.subject.source]).sort()).toEqual(logs.paths.map((p) => ['critical', p]).sort());
    expect(findings.find((f) => f.subject.source === removed)!.message).toBe(
      `${removed} deleted, with no rotated or compressed copy beside it: authentication records were destroyed outside a log rotation`,
    );
    // Each is one tampering however often the follower looks again.
    logs.append(truncated, 5);
    const later = await until(exporter, (s) => linesRead(s, truncated) >= 45, 'lines after the truncation');
    expect(sampleValue(later, 'hostguard_auth_log_tampering_total', { source: truncated, kind: 'truncated' })).toBe(1);
  }, 120_000);
});

/**
 * What journald does when it rotates: rename the active file to `system@SEQNUMID-HEADSEQNUM-HEADREALTIME.journal`
 * (the inode stays; `journalctl --vacuum-time` goes by the head time in the name), then start a new
 * one, here with `messages` timestamped from `at`.
 */
function rotateJournal(dir: string, journalDir: string, archivedHead: number, at: number, messages: readonly string[], n: number): void {
  const active = join(journalDir, 'system.journal');
  renameSync(
    active,
    join(
      journalDir,
      `system@0123456789abcdef0123456789abcdef-${String(n).padStart(16, '0')}-${(archivedHead * 1000).toString(16).padStart(16, '0')}.journal`,
    ),
  );
  appendToJournal(active, exportAt(dir, `rotation-${n}.export`, at, messages));
}

/** Journal export entries of sshd timestamped from `at` (ms), a second apart. */
function exportAt(dir: string, name: string, at: number, messages: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    messages
      .map((message, i) =>
        [
          `__REALTIME_TIMESTAMP=${(at + i * 1000) * 1000}`,
          `__MONOTONIC_TIMESTAMP=${1_000_000 + i}`,
          '_BOOT_ID=6f1c0f0d2b7a4e0e9c1b1f7d2a3e4b5c',
          'SYSLOG_IDENTIFIER=sshd',
          'SYSLOG_FACILITY=4',
          `_PID=${4000 + i}`,
          `MESSAGE=${message}`,
          '',
        ].join('\n'),
      )
      .join('\n') + '\n',
  );
  return file;
}

describe('journal files removed while the journal is followed', () => {
  const day = 86_400_000;

  function followJournal(dir: string, journalDir: string): string[] {
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  sources:\n    - type: journald\n      path: ${journalDir}\n      start_at: beginning\n`);
    return ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.auth'];
  }

  it("journald's rotation and a vacuum of old archives stay quiet; `journalctl --vacuum-time=1s` after a rotation, and rm of the active file, are tampering", async () => {
    requireTool('journalctl', 'systemd');
    const dir = tempDir();
    const { journalDir, journal } = journalDirIn(dir);
    const now = Date.now();
    const failed = (n: number) => Array.from({ length: n }, (_, i) => `Failed password for root from 192.0.2.${i} port 22 ssh2`);
    appendToJournal(journal, exportAt(dir, 'first.export', now - 40 * day, failed(2)));
    rotateJournal(dir, journalDir, now - 40 * day, now - 20 * day, failed(2), 1);
    rotateJournal(dir, journalDir, now - 20 * day, now - 60_000, failed(2), 2);
    const source = `journald:${journalDir}`;
    const exporter = await startExporter(followJournal(dir, journalDir));
    await until(
      exporter,
      (s) => (sampleValue(s, 'hostguard_auth_failures_total', { service: 'sshd', reason: 'password', user_class: 'root' }) ?? 0) >= 6,
      'the journal read',
    );

    // journald rotates (rename: same inode), then vacuums the archive older than 30 days.
    rotateJournal(dir, journalDir, now - 60_000, now, failed(1), 3);
    const archives = () => readdirSync(journalDir).filter((n) => n.includes('@')).length;
    expect(archives()).toBe(3);
    execFileSync('journalctl', [`--directory=${journalDir}`, '--vacuum-time=30d'], { stdio: 'ignore' });
    expect(archives()).toBe(2);
    let samples = await metrics(exporter);
    expect(sampleValue(samples, 'hostguard_auth_log_tampering_total', { source, kind: 'journal_removed' })).toBe(0);
    expect(await tamperFindings(exporter)).toEqual([]);

    // The intruder's way: vacuum everything archived, including the file with what was logged a minute ago.
    execFileSync('journalctl', [`--directory=${journalDir}`, '--vacuum-time=1s'], { stdio: 'ignore' });
    expect(archives()).toBe(0);
    samples = await metrics(exporter);
    expect(sampleValue(samples, 'hostguard_auth_log_tampering_total', { source, kind: 'journal_removed' })).toBe(1);
    execFileSync('rm', [journal]);
    samples = await metrics(exporter);
    expect(sampleValue(samples, 'hostguard_auth_log_tampering_total', { source, kind: 'journal_removed' })).toBe(2);
    const findings = await tamperFindings(exporter);
    expect(findings.map((f) => f.message.replace(journalDir, 'J').replace(/system@\S+\.journal/, 'system@ARCHIVE.journal')).sort()).toEqual(
      [
        'J/system.journal the active journal file was removed: authentication records were destroyed outside a log rotation',
        'J/system@ARCHIVE.journal an archived journal file with entries from the last 24 h was removed: authentication records were destroyed outside a log rotation',
      ],
    );
    expect(findings.every((f) => f.severity === 'critical')).toBe(true);
  }, 60_000);

  it('the volatile journal flushed into /var/log/journal is not tampering', async () => {
    const dir = tempDir();
    const root = join(dir, 'root');
    const runtime = join(root, 'run/log/journal/0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a');
    const persistent = join(root, 'var/log/journal/0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a');
    mkdirSync(runtime, { recursive: true });
    mkdirSync(persistent, { recursive: true });
    appendToJournal(
      join(runtime, 'system.journal'),
      exportAt(dir, 'boot.export', Date.now(), ['Accepted publickey for alice from 192.0.2.1 port 22 ssh2']),
    );
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'auth:\n  sources:\n    - type: journald\n      start_at: beginning\n');
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
    await metrics(exporter);
    // What `journalctl --flush` does: the entries move to the persistent journal, the runtime file goes.
    appendToJournal(
      join(persistent, 'system.journal'),
      exportAt(dir, 'flush.export', Date.now(), ['Accepted publickey for alice from 192.0.2.1 port 22 ssh2']),
    );
    execFileSync('rm', [join(runtime, 'system.journal')]);
    const samples = await metrics(exporter);
    expect(sampleValue(samples, 'hostguard_auth_log_tampering_total', { source: 'journald', kind: 'journal_removed' })).toBe(0);
    expect(await tamperFindings(exporter)).toEqual([]);
  });
});

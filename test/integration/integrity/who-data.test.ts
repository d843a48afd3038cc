import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../../src/findings/report.js';
import { fileWriteRecords, watchedDirectoryPolicy } from '../../helpers/audit-log.js';
import { runCli, startExporter, tempDir, type RunningExporter } from '../../helpers/cli.js';
import { sampleValue } from '../../helpers/exposition.js';
import { until } from '../../helpers/poll.js';
import { spawnOwned } from '../../helpers/processes.js';

/**
 * Who changed a watched file: the audit records of the watch rules (key hostguard_fim) in an audit
 * log written by the test in auditd's format (test/helpers/audit-log.ts, after the capture in
 * test/fixtures/kaudit/fim-enriched.log), the exporter following it as processes.exec_events
 * says, and the real files changed so the real-time watch sees them. test/serial/who-data.test.ts
 * runs the story against the real auditd.
 */

type Found = FindingsDocument['findings'][number];

interface WatchedHost {
  readonly watched: string;
  readonly log: string;
  readonly exporter: RunningExporter;
}

/** A watched directory with one file, a baseline of it, and serve with a scan once a year: what shows up, the watch found. */
async function watchedHost(options: { execEvents: boolean; collectors: readonly string[] }): Promise<WatchedHost> {
  const dir = tempDir('hostguard-whodata-');
  const watched = join(dir, 'watched');
  mkdirSync(watched);
  writeFileSync(join(watched, 'job'), '0 3 * * * root /usr/local/bin/backup\n');
  const log = join(dir, 'audit.log');
  writeFileSync(log, '');
  const policy = join(dir, 'policy.yml');
  writeFileSync(policy, watchedDirectoryPolicy(watched, options.execEvents ? log : undefined));
  const args = [
    '--state.dir',
    join(dir, 'state'),
    '--config.file',
    policy,
    '--collector.disable-defaults',
    ...options.collectors.map((c) => `--collector.${c}`),
    '--findings.show-details',
  ];
  const init = runCli([...args, 'baseline', 'init']);
  expect(init.code, init.stderr).toBe(0);
  // Without auditctl on its PATH, as without CAP_AUDIT_CONTROL: only the log is read.
  const env = { ...process.env, PATH: '/usr/bin:/bin' };
  const exporter = await startExporter(args, { spawn: (command, a) => spawnOwned(command, a, { env }) });
  // The scan at start, judged: a change from now on is judged against it.
  await until(
    'the scan at start',
    async () => (await fetch(`${exporter.url}/metrics`)).text(),
    (body) => (sampleValue(body, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0,
  );
  return { watched, log, exporter };
}

async function integrityFindings(exporter: RunningExporter): Promise<Found[]> {
  const document = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
  return document.findings.filter((f) => f.collector === 'integrity');
}

const findingOf = (all: readonly Found[], kind: string, path: string) => all.find((f) => f.kind === kind && f.subject['path'] === path);

const appendLines = (path: string, lines: readonly string[]) => appendFileSync(path, lines.map((l) => `${l}\n`).join(''));

// Each test starts an exporter and polls with until's deadline: more than the default timeout.
describe('who changed a watched file (who-data)', { timeout: 120_000 }, () => {
  it('a line appended by tee and a job created by sh are findings naming each writer, from the audit log the exec source follows', async () => {
    const { watched, log, exporter } = await watchedHost({ execEvents: true, collectors: ['processes', 'integrity'] });
    const job = join(watched, 'job');
    appendFileSync(job, '* * * * * root /tmp/.x\n');
    appendLines(
      log,
      fileWriteRecords({
        serial: 501,
        pid: 4242,
        exe: '/usr/bin/tee',
        uid: 0,
        auid: 1000,
        cwd: '/root',
        names: [{ name: job, nametype: 'NORMAL' }],
      }),
    );
    const changed = await until(
      'the change naming tee',
      () => integrityFindings(exporter),
      (all) => findingOf(all, 'content_changed', job)?.message.includes('written by') === true,
    );
    expect(findingOf(changed, 'content_changed', job)!.message).toMatch(/; written by \/usr\/bin\/tee \(pid 4242, uid 0, auid 1000\)$/);

    // A relative name, created in the directory by a daemon (auid unset).
    writeFileSync(join(watched, 'x'), '* * * * * root /tmp/.y\n');
    appendLines(
      log,
      fileWriteRecords({
        serial: 502,
        pid: 777,
        exe: '/usr/bin/dash',
        uid: 33,
        cwd: watched,
        names: [
          { name: watched, nametype: 'PARENT' },
          { name: 'x', nametype: 'CREATE' },
        ],
      }),
    );
    const added = await until(
      'the added file naming sh',
      () => integrityFindings(exporter),
      (all) => findingOf(all, 'added', join(watched, 'x'))?.message.includes('written by') === true,
    );
    expect(findingOf(added, 'added', join(watched, 'x'))!.message).toMatch(
      /; written by \/usr\/bin\/dash \(pid 777, uid 33, auid unset\)$/,
    );
    // The earlier change keeps its own writer.
    expect(findingOf(added, 'content_changed', job)!.message).toMatch(/written by \/usr\/bin\/tee/);
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(body, 'hostguard_integrity_writer_records_total')).toBe(2);
    expect(sampleValue(body, 'hostguard_integrity_writer_evictions_total')).toBe(0);
    // The exec source read the same log, once: its records are every line written.
    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length;
    expect(sampleValue(body, 'hostguard_process_exec_source_records_total')).toBe(lines);
  });

  it('the integrity collector alone follows the log when processes.exec_events names it', async () => {
    const { watched, log, exporter } = await watchedHost({ execEvents: true, collectors: ['integrity'] });
    const job = join(watched, 'job');
    appendFileSync(job, 'x\n');
    appendLines(
      log,
      fileWriteRecords({
        serial: 601,
        pid: 99,
        exe: '/usr/bin/vim.basic',
        auid: 1000,
        cwd: watched,
        names: [{ name: 'job', nametype: 'NORMAL' }],
      }),
    );
    const changed = await until(
      'the change naming vim',
      () => integrityFindings(exporter),
      (all) => findingOf(all, 'content_changed', job)?.message.includes('written by') === true,
    );
    expect(findingOf(changed, 'content_changed', job)!.message).toMatch(
      /; written by \/usr\/bin\/vim\.basic \(pid 99, uid 0, auid 1000\)$/,
    );
  });

  it('without the exec source configured, a change says "writer unknown", whatever the log holds', async () => {
    const { watched, log, exporter } = await watchedHost({ execEvents: false, collectors: ['integrity'] });
    const job = join(watched, 'job');
    appendLines(
      log,
      fileWriteRecords({ serial: 701, pid: 4242, exe: '/usr/bin/tee', auid: 1000, cwd: '/', names: [{ name: job, nametype: 'NORMAL' }] }),
    );
    appendFileSync(job, '* * * * * root /tmp/.x\n');
    const changed = await until(
      'the change',
      () => integrityFindings(exporter),
      (all) => findingOf(all, 'content_changed', job) !== undefined,
    );
    expect(findingOf(changed, 'content_changed', job)!.message).toMatch(/; writer unknown$/);
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(sampleValue(body, 'hostguard_integrity_writer_records_total')).toBe(0);
  });
});

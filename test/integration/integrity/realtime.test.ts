import { appendFileSync, chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir, type RunningExporter } from '../../helpers/cli.js';
import { sampleValue } from '../../helpers/exposition.js';
import { spawnOwned } from '../../helpers/processes.js';
import { requireTool } from '../../helpers/tools.js';
import { buildTree, integrityArgs } from './tree.js';
import { defaultPolicyWatchOnly, mismatch, persistenceRoot, scheduledScans, scrape, scrapeUntil } from './persistence-host.js';

/** serve on a root of the test's own, with the embedded default policy scanning once a year: what shows up, the watch found. */
async function watchedHost(): Promise<{ root: string; exporter: RunningExporter; args: string[]; scansAtStart: number }> {
  const root = persistenceRoot();
  const args = [
    '--collector.disable-defaults',
    '--collector.integrity',
    '--config.file',
    defaultPolicyWatchOnly(),
    '--path.rootfs',
    root,
    '--state.dir',
    tempDir(),
  ];
  const init = runCli([...args, 'baseline', 'init']);
  expect(init.code, init.stderr).toBe(0);
  const exporter = await startExporter(args);
  const samples = await scrapeUntil(
    exporter,
    (s) => (sampleValue(s, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0,
    'the scan at start',
  );
  expect(sampleValue(samples, 'hostguard_integrity_watch_enabled')).toBe(1);
  expect(sampleValue(samples, 'hostguard_findings', { collector: 'integrity', kind: 'added' })).toBe(0);
  return { root, exporter, args, scansAtStart: scheduledScans(samples) };
}

interface Step {
  readonly story: string;
  readonly act: (root: string) => void;
  readonly path: string;
  readonly kind: string;
}

/** The table: each was found only by the scan 15 minutes later, or never. */
const intrusions: readonly Step[] = [
  {
    story: 'a job in /etc/cron.d',
    act: (r) => writeFileSync(join(r, 'etc/cron.d/x'), '* * * * * root /tmp/.x\n'),
    path: '/etc/cron.d/x',
    kind: 'added',
  },
  {
    story: 'a uid-0 line in /etc/passwd',
    act: (r) => appendFileSync(join(r, 'etc/passwd'), 'toor:x:0:0::/root:/bin/bash\n'),
    path: '/etc/passwd',
    kind: 'content_changed',
  },
  {
    story: 'an empty /etc/ld.so.preload',
    act: (r) => writeFileSync(join(r, 'etc/ld.so.preload'), ''),
    path: '/etc/ld.so.preload',
    kind: 'added',
  },
  {
    story: 'a unit in /etc/systemd/system',
    act: (r) => writeFileSync(join(r, 'etc/systemd/system/update-helper.service'), '[Service]\nExecStart=/tmp/.x\n'),
    path: '/etc/systemd/system/update-helper.service',
    kind: 'added',
  },
  {
    story: 'a setuid copy of bash in /usr/local/bin',
    act: (r) => {
      copyFileSync('/usr/bin/bash', join(r, 'usr/local/bin/.sh'));
      chmodSync(join(r, 'usr/local/bin/.sh'), 0o4755);
    },
    path: '/usr/local/bin/.sh',
    kind: 'added',
  },
  {
    story: 'a key appended to /root/.ssh/authorized_keys',
    act: (r) => appendFileSync(join(r, 'root/.ssh/authorized_keys'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIntruder x@y\n'),
    path: '/root/.ssh/authorized_keys',
    kind: 'content_changed',
  },
  {
    story: 'a script in /etc/profile.d',
    act: (r) => writeFileSync(join(r, 'etc/profile.d/zz.sh'), '/tmp/.x &\n'),
    path: '/etc/profile.d/zz.sh',
    kind: 'added',
  },
  {
    story: 'auth sufficient pam_permit.so inserted into /etc/pam.d/common-auth',
    act: (r) => {
      const file = join(r, 'etc/pam.d/common-auth');
      writeFileSync(file, `auth sufficient pam_permit.so\n${readFileSync(file, 'utf8')}`);
    },
    path: '/etc/pam.d/common-auth',
    kind: 'content_changed',
  },
];

describe('the real-time watch of the default policy (inotify, serve)', () => {
  it('finds each persistence step of the issue on the next scrape, with no scheduled scan in between', { timeout: 300_000 }, async () => {
    const { root, exporter, scansAtStart } = await watchedHost();
    for (const step of intrusions) {
      step.act(root);
      const samples = await scrapeUntil(exporter, (s) => mismatch(s, step.path, step.kind), step.story);
      expect(scheduledScans(samples), step.story).toBe(scansAtStart);
    }
    const samples = await scrape(exporter);
    expect(sampleValue(samples, 'hostguard_integrity_mismatch', { path: '/usr/local/bin/.sh', kind: 'added', attribute: 'presence' })).toBe(
      1,
    );
    expect(sampleValue(samples, 'hostguard_integrity_watch_rescans_total', { reason: 'changes' })).toBeGreaterThanOrEqual(1);
    const findings = (await (await fetch(`${exporter.url}/api/findings`)).json()) as {
      findings: Array<{ kind: string; severity: string; subject: { path?: string }; message: string }>;
    };
    const setuid = findings.findings.find((f) => f.subject.path === '/usr/local/bin/.sh');
    expect(setuid).toMatchObject({ kind: 'added', severity: 'critical' });
    // No audit reader is attached: who wrote it is said to be unknown.
    expect(setuid?.message).toMatch(/; writer unknown$/);
  });

  it('watches the keys of an account added to /etc/passwd as soon as it is added', { timeout: 180_000 }, async () => {
    const { root, exporter, scansAtStart } = await watchedHost();
    appendFileSync(join(root, 'etc/passwd'), 'deploy:x:1001:1001::/home/deploy:/bin/bash\n');
    await scrapeUntil(
      exporter,
      (s) => (sampleValue(s, 'hostguard_integrity_watch_rescans_total', { reason: 'accounts' }) ?? 0) >= 1,
      'the watched set expanded again',
    );
    mkdirSync(join(root, 'home/deploy/.ssh'), { recursive: true });
    writeFileSync(join(root, 'home/deploy/.ssh/authorized_keys'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIntruder x@y\n');
    const samples = await scrapeUntil(exporter, (s) => mismatch(s, '/home/deploy/.ssh/authorized_keys', 'added'), "the new account's key");
    // The expansion is a scan of the whole watched set, started by the watch: the schedule never ran.
    expect(
      sampleValue(samples, 'hostguard_integrity_scans_total', { mode: 'fast' })! +
        sampleValue(samples, 'hostguard_integrity_scans_total', { mode: 'full' })!,
    ).toBe(scansAtStart + (sampleValue(samples, 'hostguard_integrity_watch_rescans_total', { reason: 'accounts' }) ?? 0));
  });

  it('keeps watching a directory replaced by a rename', { timeout: 180_000 }, async () => {
    const { root, exporter } = await watchedHost();
    const cron = join(root, 'etc/cron.d');
    mkdirSync(`${cron}.new`);
    writeFileSync(join(`${cron}.new`, 'backup'), '0 3 * * * root /usr/local/bin/backup\n');
    renameSync(cron, `${cron}.old`);
    renameSync(`${cron}.new`, cron);
    // The first watch followed the old directory away; a write into the new one must still be seen.
    await scrapeUntil(
      exporter,
      (s) => (sampleValue(s, 'hostguard_integrity_watch_rescans_total', { reason: 'changes' }) ?? 0) >= 1,
      'the rename',
    );
    writeFileSync(join(cron, 'late'), '* * * * * root /tmp/.x\n');
    await scrapeUntil(exporter, (s) => mismatch(s, '/etc/cron.d/late', 'added'), 'a file written into the new directory');
  });

  it('reads a burst of 2,000 new files in a few rescans, each file about once', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const tree = join(dir, 'tree');
    buildTree(tree);
    const policy = join(dir, 'policy.yml');
    writeFileSync(
      policy,
      `integrity:\n  paths: [${JSON.stringify(tree)}]\n  schedule: "0 0 1 1 *"\n  running_executables: false\n  package_database: false\n  ssh_authorized_keys: false\n  privileged_files: { enabled: false }\n`,
    );
    const args = integrityArgs(policy, join(dir, 'state'));
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const exporter = await startExporter(args);
    const before = await scrapeUntil(
      exporter,
      (s) => (sampleValue(s, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0,
      'the scan at start',
    );
    const hashedBefore = sampleValue(before, 'hostguard_integrity_hashed_bytes_total')!;
    const content = 'x'.repeat(4096);
    // Into a watched directory: every file is its own events (create, modify).
    for (let i = 0; i < 2000; i++) writeFileSync(join(tree, 'etc/cron.d', `f${i}`), content);
    const after = await scrapeUntil(
      exporter,
      (s) => sampleValue(s, 'hostguard_findings', { collector: 'integrity', kind: 'added' }) === 2000,
      '2,000 new files',
    );
    const rescans = sampleValue(after, 'hostguard_integrity_watch_rescans_total', { reason: 'changes' })!;
    const events = sampleValue(after, 'hostguard_integrity_watch_events_total')!;
    // Each file is several events (create, modify): coalesced, they are far fewer rescans.
    expect(events).toBeGreaterThanOrEqual(4000);
    expect(rescans).toBeLessThan(events / 20);
    // No re-read storm: the bytes hashed are those of the burst, each file read about once.
    expect(sampleValue(after, 'hostguard_integrity_hashed_bytes_total')! - hashedBefore).toBeLessThanOrEqual(2 * 2000 * content.length);
    expect(scheduledScans(after)).toBe(scheduledScans(before));
  });

  it(
    "scans everything at once when the kernel's event queue overflowed, and finds what the lost events named",
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      const tree = join(dir, 'tree');
      buildTree(tree);
      const policy = join(dir, 'policy.yml');
      writeFileSync(
        policy,
        `integrity:\n  paths: [${JSON.stringify(tree)}]\n  schedule: "0 0 1 1 *"\n  running_executables: false\n  package_database: false\n  ssh_authorized_keys: false\n  privileged_files: { enabled: false }\n`,
      );
      const args = integrityArgs(policy, join(dir, 'state'));
      expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
      const exporter = await startExporter(args);
      await scrapeUntil(
        exporter,
        (s) => (sampleValue(s, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0,
        'the scan at start',
      );
      const queueLimit = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
      // Stopped, the exporter reads nothing: the queue fills up, and every event after that is lost.
      process.kill(exporter.child.pid!, 'SIGSTOP');
      try {
        const a = join(tree, 'bin/true');
        const b = join(tree, 'bin/echo');
        // Alternating files: the kernel merges an event only with an identical one just before it.
        for (let i = 0; i <= queueLimit; i++) utimesSync(i % 2 === 0 ? a : b, i, i);
        writeFileSync(join(tree, 'etc/cron.d/lost'), '* * * * * root /tmp/.x\n');
      } finally {
        process.kill(exporter.child.pid!, 'SIGCONT');
      }
      const samples = await scrapeUntil(
        exporter,
        (s) => mismatch(s, join(tree, 'etc/cron.d/lost'), 'added'),
        'the file whose events were lost',
      );
      expect(sampleValue(samples, 'hostguard_integrity_watch_overflows_total')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'hostguard_integrity_watch_rescans_total', { reason: 'overflow' })).toBeGreaterThanOrEqual(1);
    },
  );

  it('names the directories over the inotify watch limit, and the scheduled scan still covers them', { timeout: 180_000 }, async () => {
    const unshare = requireTool('unshare', 'util-linux');
    const dir = tempDir();
    const tree = join(dir, 'tree');
    buildTree(tree);
    for (const sub of ['a', 'b', 'c', 'd', 'e', 'f']) mkdirSync(join(tree, sub));
    const policy = join(dir, 'policy.yml');
    writeFileSync(
      policy,
      `integrity:\n  paths: [${JSON.stringify(tree)}]\n  schedule: "*/2 * * * * *"\n  running_executables: false\n  package_database: false\n  ssh_authorized_keys: false\n  privileged_files: { enabled: false }\n`,
    );
    const args = integrityArgs(policy, join(dir, 'state'));
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    // A user namespace of its own has its own watch limit (/proc/sys/user/max_inotify_watches): 4
    // watches for 10 directories, without touching this machine's limit.
    const script = 'echo 4 > /proc/sys/user/max_inotify_watches && exec "$@"';
    let output = '';
    const exporter = await startExporter(args, {
      spawn: (command, commandArgs) => {
        const child = spawnOwned(unshare, ['--user', '--map-root-user', 'sh', '-c', script, 'sh', command, ...commandArgs]);
        for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (d: Buffer) => (output += d.toString()));
        return child;
      },
    });
    const samples = await scrapeUntil(
      exporter,
      (s) => (sampleValue(s, 'hostguard_integrity_watch_unwatched_directories', { reason: 'limit' }) ?? 0) > 0,
      'the watch limit',
    );
    expect(sampleValue(samples, 'hostguard_integrity_watch_directories')).toBe(4);
    const named = samples
      .filter((s) => s.name === 'hostguard_integrity_watch_unwatched_directory' && s.labels['reason'] === 'limit')
      .map((s) => s.labels['path']!);
    expect(named.length).toBe(sampleValue(samples, 'hostguard_integrity_watch_unwatched_directories', { reason: 'limit' }));
    // Named in the log too, with what to do about it.
    expect(output).toMatch(/directories not watched.*hint="raise fs\.inotify\.max_user_watches/);
    for (const path of named) expect(output).toContain(`${path} (ENOSPC)`);
    const unwatched = named.find((p) => p.startsWith(`${tree}/`))!;
    writeFileSync(join(unwatched, 'dropped'), 'x\n');
    await scrapeUntil(
      exporter,
      (s) => mismatch(s, join(unwatched, 'dropped'), 'added'),
      'a file in a directory without a watch, at the next scheduled scan',
    );
  });
});

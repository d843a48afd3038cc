import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, readdirSync, readFileSync, readlinkSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { cliPath, privateDir, runCli, startExporter, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { eventually } from '../helpers/eventually.js';
import { rootWithSleep, spawnOwned, stopProcess, waitForOutput } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

/**
 * The processes collector against real processes on this host. Other tests run beside these, so
 * every assertion is about a process this file planted (by its executable or PID), never about
 * the host as a whole; test/serial has the quiet-host story.
 */

const nobody = { uid: 65534, gid: 65534 };

/** A copy of a system binary, as an intruder drops one. */
function plant(dir: string, name = 'sleep', from = '/usr/bin/sleep'): string {
  const path = join(dir, name);
  copyFileSync(from, path);
  chmodSync(path, 0o755);
  return path;
}

/** A policy for these tests: the default, with the sweep off unless a test needs it (it takes ~0.5 s). */
function policyFile(extra = 'hidden_sweep: { enabled: false }'): string {
  const file = join(tempDir(), 'policy.yml');
  writeFileSync(
    file,
    `processes:\n${extra
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}\n`,
  );
  return file;
}

function processesArgs(policy: string, stateDir = tempDir()): string[] {
  // These tests read the judgment's full detail (users); redaction has its own tests.
  return [
    '--state.dir',
    stateDir,
    '--config.file',
    policy,
    '--collector.disable-defaults',
    '--collector.processes',
    '--findings.show-details',
  ];
}

function check(args: string[], env?: NodeJS.ProcessEnv): { code: number | null; document: FindingsDocument; stderr: string } {
  const result = runCli([...args, 'check', '--format', 'json'], { env });
  return { code: result.code, document: JSON.parse(result.stdout) as FindingsDocument, stderr: result.stderr };
}

function findingsFor(document: FindingsDocument, predicate: (subject: Record<string, string | number | boolean>) => boolean) {
  return document.findings.filter((f) => predicate(f.subject));
}

/** Wait until a started process has exec'ed its program (its exe link says so). */
async function running(child: ChildProcess, exe: string): Promise<number> {
  const pid = child.pid!;
  await eventually(() => readlinkSync(`/proc/${pid}/exe`).startsWith(exe), { intervalMs: 20, what: `process ${pid} running ${exe}` });
  return pid;
}

/** CPU seconds a process has used so far, from /proc/PID/stat (utime + stime). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Metrics once the sweep that `serve` starts with has finished. */
async function sweptMetrics(url: string): Promise<string> {
  return eventually(
    async () => {
      const body = await metrics(url);
      return (sampleValue(body, 'hostguard_process_hidden_sweep_last_timestamp_seconds') ?? 0) > 0 && body;
    },
    { timeoutMs: 60_000, what: 'the hidden-process sweep at start' },
  );
}

describe('a planted process is found on the next look', () => {
  it('a copy of a system binary run from a temporary directory is unknown_executable and writable_location', async () => {
    const copy = plant(tempDir());
    const pid = await running(spawnOwned(copy, ['300']), copy);
    const { code, document } = check(processesArgs(policyFile()));
    expect(code).toBe(1);
    const mine = findingsFor(document, (s) => s['exe'] === copy);
    expect(mine.map((f) => [f.kind, f.severity, f.subject])).toEqual([
      ['writable_location', 'critical', { exe: copy, user: 'root' }],
      ['unknown_executable', 'warning', { exe: copy, user: 'root' }],
    ]);
    expect(mine[0]!.message).toContain(`PID ${pid}`);
  });

  it('a binary deleted after it started is deleted_executable', async () => {
    const copy = plant(privateDir());
    const child = spawnOwned(copy, ['300']);
    await running(child, copy);
    unlinkSync(copy);
    const { document } = check(processesArgs(policyFile()));
    expect(findingsFor(document, (s) => s['exe'] === copy).map((f) => f.kind)).toEqual(['deleted_executable', 'unknown_executable']);
  });

  it('an allowed binary running under a user its rule does not allow is unexpected_user', async () => {
    const policy = policyFile('allow:\n  - exe: /usr/bin/sleep\n    users: [root]\nhidden_sweep: { enabled: false }');
    const child = spawnOwned('/usr/bin/sleep', ['301'], nobody);
    const pid = await running(child, '/usr/bin/sleep');
    const { document } = check(processesArgs(policy));
    const mine = findingsFor(document, (s) => s['exe'] === '/usr/bin/sleep' && s['user'] === 'nobody');
    expect(mine.map((f) => f.kind)).toEqual(['unexpected_user']);
    expect(mine[0]!.message).toMatch(
      new RegExp(`runs as nobody; allow rule 1 \\(processes\\.allow\\[0\\]\\) allows only root \\(.*\\b${pid}\\b`),
    );
  });

  it('processes named like a kernel thread, or like sshd, are name_mismatch', async () => {
    const bracketed = spawnOwned('bash', ['-c', 'exec -a "[kworker/0:7]" sleep 302']);
    const renamed = spawnOwned('perl', ['-e', '$0 = "kworker/5:2"; sleep 303']);
    const fakeSshd = plant(privateDir(), 'sshd');
    const fake = spawnOwned(fakeSshd, ['304']);
    const pids = [await running(bracketed, '/usr/bin/sleep'), await running(renamed, '/usr/bin/perl'), await running(fake, fakeSshd)];
    // perl renames itself after it starts.
    await eventually(() => readFileSync(`/proc/${renamed.pid}/cmdline`, 'utf8').startsWith('kworker/5:2'), { what: 'perl renamed' });
    const { document } = check(processesArgs(policyFile()));
    const mismatches = document.findings.filter(
      (f) => f.kind === 'name_mismatch' && pids.some((pid) => new RegExp(`\\b${pid}\\b`).test(f.message)),
    );
    expect(mismatches.map((f) => f.subject).sort((a, b) => String(a['exe']).localeCompare(String(b['exe'])))).toEqual([
      { exe: '/usr/bin/perl', user: 'root', name: 'kworker/5:2' },
      { exe: '/usr/bin/sleep', user: 'root', name: '[kworker/0:7]' },
      { exe: fakeSshd, user: 'root', name: 'sshd' },
    ]);
  });

  it('an unknown process burning CPU is also resource_hog, and its CPU and memory are exported', async () => {
    const args = processesArgs(policyFile('resource_hog: { cpu_cores: 0.02 }\nhidden_sweep: { enabled: false }'));
    // The baseline first: accepted after the miner started, it would know the miner.
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const sh = plant(privateDir(), 'dash', '/usr/bin/dash');
    const pid = await running(spawnOwned(sh, ['-c', 'while :; do :; done']), sh);
    // CPU time, not wall time: on a busy machine the loop may get a small share of a core.
    await eventually(() => cpuSecondsOf(pid) >= 0.2, { timeoutMs: 60_000, what: 'the loop using 0.2 CPU seconds' });
    const exporter = await startExporter(args);
    // The first collection rates CPU over the process's life (later ones over the time between scrapes).
    const body = await metrics(exporter.url);
    expect(sampleValue(body, 'hostguard_process_flagged', { exe: sh, user_class: 'root', kind: 'resource_hog' })).toBe(1);
    expect(sampleValue(body, 'hostguard_process_flagged_cpu_seconds', { exe: sh, user_class: 'root' })).toBeGreaterThan(0.1);
    expect(sampleValue(body, 'hostguard_process_flagged_resident_bytes', { exe: sh, user_class: 'root' })).toBeGreaterThan(0);
    const findings = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    expect(findingsFor(findings, (s) => s['exe'] === sh).map((f) => f.kind)).toEqual(['resource_hog', 'unknown_executable']);
    expect(findings.findings.find((f) => f.kind === 'resource_hog' && f.subject['exe'] === sh)?.message).toContain(`PID ${pid}`);
  });
});

describe('short-lived processes', () => {
  it('an unknown process is counted by the start watch, by its verdict, and stays counted once it has exited', async () => {
    const exporter = await startExporter(processesArgs(policyFile()));
    const unknown = plant(privateDir());
    const inTmp = plant(tempDir());
    const count = async (verdict: string) => sampleValue(await metrics(exporter.url), 'hostguard_process_starts_total', { verdict }) ?? NaN;
    expect(sampleValue(await metrics(exporter.url), 'hostguard_process_start_watch_interval_seconds')).toBe(0.5);
    const before = { unknown: await count('unknown_executable'), writable: await count('writable_location') };
    // Only the watch counts starts (a collection judges what runs, it counts none). Each process
    // lives until the watch has seen it, however late a loaded machine runs the watch.
    for (const [copy, verdict, from] of [
      [unknown, 'unknown_executable', before.unknown],
      [inTmp, 'writable_location', before.writable],
    ] as const) {
      const child = spawnOwned(copy, ['300']);
      await running(child, copy);
      await eventually(async () => (await count(verdict)) >= from + 1, { what: `the start of ${copy} counted as ${verdict}` });
      await stopProcess(child);
    }
    expect(await count('unknown_executable')).toBeGreaterThanOrEqual(before.unknown + 1);
    expect(await count('writable_location')).toBeGreaterThanOrEqual(before.writable + 1);
  });
});

describe('hidden processes', () => {
  it('a process whose /proc entry is covered by a bind mount is hidden_process (procfs_entry)', async () => {
    const mount = requireTool('mount', 'mount');
    const umount = requireTool('umount', 'mount');
    const child = spawnOwned('/usr/bin/sleep', ['305']);
    const pid = await running(child, '/usr/bin/sleep');
    const empty = tempDir();
    expect(spawnSync(mount, ['--bind', empty, `/proc/${pid}`]).status).toBe(0);
    try {
      // ps no longer shows it: this is how it hides.
      expect(spawnSync('ps', ['-p', String(pid), '-o', 'pid='], { encoding: 'utf8' }).stdout.trim()).toBe('');
      const { document } = check(processesArgs(policyFile('hidden_sweep: { enabled: true }')));
      expect(findingsFor(document, (s) => s['pid'] === pid)).toMatchObject([
        { kind: 'hidden_process', severity: 'critical', subject: { pid, view: 'procfs_entry' } },
      ]);
    } finally {
      spawnSync(umount, [`/proc/${pid}`]);
    }
    await stopProcess(child);
  });

  it('a process that a trojaned ps leaves out is hidden_process (ps); the threads of a live process are not', async () => {
    const child = spawnOwned('/usr/bin/sleep', ['306']);
    const pid = await running(child, '/usr/bin/sleep');
    const bin = tempDir();
    const realPs = requireTool('ps', 'procps');
    writeFileSync(join(bin, 'ps'), `#!/bin/sh\n${realPs} "$@" | awk '$1 != ${pid}'\n`);
    chmodSync(join(bin, 'ps'), 0o755);
    // A process with threads: node itself (libuv's pool and V8's workers), alive until killed.
    const threaded = spawnOwned(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 2 ** 30)']);
    await waitForOutput(threaded, /up/);
    expect(readdirSync(`/proc/${threaded.pid}/task`).length).toBeGreaterThan(1);
    const { document } = check(processesArgs(policyFile('hidden_sweep: { enabled: true }')), { PATH: `${bin}:${process.env['PATH']}` });
    expect(findingsFor(document, (s) => s['pid'] === pid)).toMatchObject([{ kind: 'hidden_process', subject: { pid, view: 'ps' } }]);
    const threadIds = readdirSync(`/proc/${threaded.pid}/task`).map(Number);
    expect(findingsFor(document, (s) => threadIds.includes(Number(s['pid'])))).toEqual([]);
  });
});

describe('other mount namespaces: sandboxes and containers', () => {
  /** Run a program in a mount namespace of its own, as systemd runs a unit with PrivateTmp. */
  async function sandboxed(program: string, args: readonly string[]): Promise<number> {
    const unshare = requireTool('unshare', 'util-linux');
    // unshare execs the program in place: the PID spawned is the PID that runs in the new namespace.
    const pid = await running(spawnOwned(unshare, ['--mount', '--propagation', 'private', program, ...args]), program);
    expect(readlinkSync(`/proc/${pid}/ns/mnt`)).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    return pid;
  }

  /** Run the root's sleep in a container of sorts; /proc/PID/exe shows the host's path of the copy. */
  async function inContainer(root: string, args: readonly string[], uid?: number): Promise<number> {
    const unshare = requireTool('unshare', 'util-linux');
    const as = uid === undefined ? [] : [`--setuid=${uid}`, `--setgid=${uid}`];
    const pid = await running(
      spawnOwned(unshare, ['--mount', '--propagation', 'private', `--root=${root}`, ...as, '/sleep', ...args]),
      join(root, 'sleep'),
    );
    expect(statSync(`/proc/${pid}/root`).ino).not.toBe(statSync('/').ino);
    return pid;
  }

  const mentions = (document: FindingsDocument, pid: number) => document.findings.filter((f) => new RegExp(`\\b${pid}\\b`).test(f.message));
  const served = async (url: string) => (await (await fetch(`${url}/api/findings`)).json()) as FindingsDocument;

  it('an unknown binary started with `unshare -m` is unknown_executable, as on the host: a mount namespace is no container', async () => {
    const implant = plant(privateDir(), 'implant');
    const pid = await sandboxed(implant, ['311']);
    const quiet = await sandboxed('/usr/bin/sleep', ['312']);
    // check, not serve: serve's first start would take the running implant into its baseline.
    const { document } = check(processesArgs(policyFile()));
    expect(findingsFor(document, (s) => s['exe'] === implant)).toMatchObject([
      { kind: 'unknown_executable', subject: { exe: implant, user: 'root' } },
    ]);
    expect(findingsFor(document, (s) => s['exe'] === implant)[0]!.subject).not.toHaveProperty('mount_namespace');
    expect(mentions(document, pid)[0]?.message).toMatch(new RegExp(`no installed package owns it \\(PID ${pid}\\)$`));
    // The host's packaged sleep is known, in a sandbox as on the host.
    expect(mentions(document, quiet)).toEqual([]);
  });

  it('a sandboxed binary deleted after it started is deleted_executable, as on the host', async () => {
    const copy = plant(privateDir(), 'tool');
    await sandboxed(copy, ['313']);
    unlinkSync(copy);
    const { document } = check(processesArgs(policyFile()));
    expect(findingsFor(document, (s) => s['exe'] === copy).map((f) => f.kind)).toEqual(['deleted_executable', 'unknown_executable']);
  });

  it('a copy of sleep in a container under /tmp is writable_location only, and the finding says it is in a container', async () => {
    const root = rootWithSleep(tempDir());
    const pid = await inContainer(root, ['314']);
    const namespace = readlinkSync(`/proc/${pid}/ns/mnt`);
    const exporter = await startExporter(processesArgs(policyFile()));
    const document = await served(exporter.url);
    // Only writable_location: an unknown copy of sleep is no unknown_executable in a container.
    const exe = join(root, 'sleep');
    expect(findingsFor(document, (s) => s['exe'] === exe)).toMatchObject([
      { kind: 'writable_location', subject: { exe, user: 'root', mount_namespace: namespace } },
    ]);
    expect(mentions(document, pid)[0]?.message).toMatch(
      new RegExp(`in a container \\(another root than the host's, mount namespace mnt:\\[\\d+\\]\\) \\(PID ${pid}\\)$`),
    );
    const body = await metrics(exporter.url);
    expect(sampleValue(body, 'hostguard_process_flagged', { exe, user_class: 'root', kind: 'writable_location' })).toBe(1);
    expect(sampleValue(body, 'hostguard_processes_identity_unjudged', { reason: 'other_root' })).toBeGreaterThanOrEqual(1);
  });

  it("names a container user by uid, not by the host's account of that uid; root stays root", async () => {
    const root = rootWithSleep(tempDir());
    const nobodyUid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const pid = await inContainer(root, ['322'], nobodyUid);
    // The host names that uid: its name must not be lent to the container's user.
    expect(execFileSync('ps', ['-o', 'user=', '-p', String(pid)], { encoding: 'utf8' }).trim()).toBe('nobody');
    const { document } = check(processesArgs(policyFile()));
    expect(mentions(document, pid)).toMatchObject([
      { kind: 'writable_location', subject: { exe: join(root, 'sleep'), user: String(nobodyUid) } },
    ]);
  });

  it('a container running a binary the host does not know, even one deleted since, is quiet: neither its identity nor deletions are judged', async () => {
    const root = rootWithSleep(privateDir());
    const pids = [await inContainer(root, ['315']), await inContainer(root, ['316'])];
    const deleted = rootWithSleep(privateDir());
    pids.push(await inContainer(deleted, ['317']));
    unlinkSync(join(deleted, 'sleep'));
    expect(readlinkSync(`/proc/${pids[2]}/exe`)).toMatch(/ \(deleted\)$/);
    const exporter = await startExporter(processesArgs(policyFile()));
    const document = await served(exporter.url);
    for (const pid of pids) expect(mentions(document, pid)).toEqual([]);
    expect(
      sampleValue(await metrics(exporter.url), 'hostguard_processes_identity_unjudged', { reason: 'other_root' }),
    ).toBeGreaterThanOrEqual(3);
  });

  it("a chroot without a mount namespace of its own is judged as the host's: /proc shows the host's paths", async () => {
    const root = rootWithSleep(privateDir());
    const pid = await running(spawnOwned(requireTool('chroot', 'coreutils'), [root, '/sleep', '318']), join(root, 'sleep'));
    const { document } = check(processesArgs(policyFile()));
    expect(mentions(document, pid).map((f) => f.kind)).toEqual(['unknown_executable']);
  });

  it("the watch of new PIDs counts a container's starts by their verdict, never as known, and a sandboxed implant's as unknown", async () => {
    const exporter = await startExporter(processesArgs(policyFile()));
    const startsOf = (body: string, verdict: string) => sampleValue(body, 'hostguard_process_starts_total', { verdict }) ?? 0;
    const before = await metrics(exporter.url);
    await inContainer(rootWithSleep(privateDir()), ['319']);
    await inContainer(rootWithSleep(tempDir()), ['320']);
    await sandboxed(plant(privateDir(), 'implant'), ['321']);
    const verdicts = ['other_root', 'writable_location', 'unknown_executable'];
    const body = await eventually(
      async () => {
        const now = await metrics(exporter.url);
        return verdicts.every((v) => startsOf(now, v) > startsOf(before, v)) && now;
      },
      { what: 'starts counted under every verdict' },
    );
    for (const verdict of verdicts) expect(startsOf(body, verdict)).toBeGreaterThan(startsOf(before, verdict));
  });
});

describe('check and the findings API', () => {
  it('check exits 1 with a planted process, and /api/findings says exactly what check says about it', async () => {
    const copy = plant(tempDir(), 'kthreadd');
    await running(spawnOwned(copy, ['307']), copy);
    const args = processesArgs(policyFile());
    const exporter = await startExporter(args);
    const served = (await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument;
    const checked = check(args);
    expect(checked.code).toBe(1);
    const mine = (d: FindingsDocument) => findingsFor(d, (s) => s['exe'] === copy);
    expect(mine(checked.document).map((f) => f.kind)).toEqual(['writable_location', 'unknown_executable']);
    expect(mine(served)).toEqual(mine(checked.document));
  });
});

describe('without root', () => {
  it('runs as nobody, says what is blind in a metric and the log, and still judges what it can read', async () => {
    const stateDir = tempDir();
    chmodSync(stateDir, 0o777);
    const policy = policyFile('hidden_sweep: { enabled: true }');
    chmodSync(join(policy, '..'), 0o755);
    // A root process the exporter cannot look into, and one of its own user it can.
    await running(spawnOwned('/usr/bin/sleep', ['308']), '/usr/bin/sleep');
    const ownDir = tempDir();
    chmodSync(ownDir, 0o755);
    const ownCopy = plant(ownDir);
    const own = spawnOwned(ownCopy, ['309'], nobody);
    await running(own, ownCopy);

    const child = spawnOwned(
      cliPath,
      ['--web.listen-address', '127.0.0.1:0', '--collector.timeout', '5m', ...processesArgs(policy, stateDir)],
      nobody,
    );
    const port = Number((await waitForOutput(child, /listening\W+address\W+127\.0\.0\.1:(\d+)/))[1]);
    const log = waitForOutput(child, /without cap_sys_ptrace the executables of other users' processes/);
    const url = `http://127.0.0.1:${port}`;
    const body = await metrics(url);
    await log;
    expect(sampleValue(body, 'hostguard_processes_unjudged', { reason: 'permission_denied' })).toBeGreaterThan(0);
    expect(sampleValue(body, 'hostguard_scrape_collector_success', { collector: 'processes' })).toBe(1);
    expect(sampleValue(body, 'hostguard_process_flagged', { exe: ownCopy, user_class: 'system', kind: 'unknown_executable' })).toBe(1);
    // kill(pid, 0) answers EPERM for other users' processes: the sweep still probes them and calls none hidden.
    const swept = await sweptMetrics(url);
    expect(sampleValue(swept, 'hostguard_process_hidden_sweep_success')).toBe(1);
    expect(sampleValue(swept, 'hostguard_processes_hidden', { view: 'listing' })).toBe(0);
  });
});

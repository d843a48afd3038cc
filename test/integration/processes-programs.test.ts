import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { privateDir, repoRoot, runCli, startExporter, tempDir } from '../helpers/cli.js';
import { factsOfNamedFile, statNamedFile } from '../../src/processes/file-facts.js';
import { hostRealPath } from '../../src/processes/host-realpath.js';
import { buildPackageIndex } from '../../src/processes/package-index.js';
import { sampleValue } from '../helpers/exposition.js';
import { until } from '../helpers/poll.js';
import { spawnOwned, waitForOutput } from '../helpers/processes.js';

/**
 * What runs is not only /proc/PID/exe: scripts run by interpreters, programs run by the dynamic
 * loader, and libraries preloaded into a process, against real processes of this host. Every
 * assertion is about a process this file planted.
 */

const loader = '/lib64/ld-linux-x86-64.so.2';
const python = '/usr/bin/python3';

function policyFile(extra = ''): string {
  const file = join(tempDir(), 'policy.yml');
  writeFileSync(file, `processes:\n  hidden_sweep: { enabled: false }\n${extra}`);
  return file;
}

const args = (policy: string, stateDir = tempDir()) => [
  '--state.dir',
  stateDir,
  '--config.file',
  policy,
  '--collector.disable-defaults',
  '--collector.processes',
  '--findings.show-details',
];

function check(policy = policyFile()): FindingsDocument {
  return JSON.parse(runCli([...args(policy), 'check', '--format', 'json']).stdout) as FindingsDocument;
}

/** Wait until the process runs `exe` (its exec is done) and, for an interpreter, has read its arguments. */
async function running(child: ChildProcess, exe: string): Promise<number> {
  const exeOf = async () => {
    try {
      return readlinkSync(`/proc/${child.pid}/exe`);
    } catch {
      return ''; // not yet
    }
  };
  await until(`process ${child.pid} running ${exe}`, exeOf, (link) => link.startsWith(exe));
  return child.pid!;
}

/**
 * A shell script that waits on its standard input, a pipe the test holds: no child of its own (a
 * `sleep` would outlive the script when the test kills it), and it ends when the pipe closes.
 */
function spawnWaiting(command: string, args: readonly string[]): ChildProcess {
  return spawnOwned(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}

function script(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

/** The findings whose message names this PID (alone or in a list of PIDs), as [kind, subject]. */
const findingsOf = (document: FindingsDocument, pid: number) =>
  document.findings.filter((f) => (f.message.split('PID').at(-1) ?? '').split(/\D+/).includes(String(pid))).map((f) => [f.kind, f.subject]);

const about = (document: FindingsDocument, file: string) =>
  document.findings.filter((f) => f.subject['exe'] === file || f.subject['library'] === file).map((f) => [f.kind, f.subject]);

describe('a script run by an interpreter is judged like an executable', { timeout: 120_000 }, () => {
  it('bash /tmp/evil.sh and python3 /tmp/evil.py: writable_location and unknown_executable for the script, naming the interpreter', async () => {
    const dir = tempDir();
    const shell = script(dir, 'evil.sh', 'read line\n');
    const py = script(dir, 'evil.py', 'import time\ntime.sleep(300)\n');
    await running(spawnWaiting('bash', [shell]), '/usr/bin/bash');
    await running(spawnOwned(python, [py]), '/usr/bin/python3');
    const document = check();
    expect(about(document, shell)).toEqual([
      ['writable_location', { exe: shell, interpreter: '/usr/bin/bash', user: 'root' }],
      ['unknown_executable', { exe: shell, interpreter: '/usr/bin/bash', user: 'root' }],
    ]);
    expect(about(document, py).map(([kind]) => kind)).toEqual(['writable_location', 'unknown_executable']);
    expect(document.findings.find((f) => f.subject['exe'] === py)!.subject['interpreter']).toMatch(/^\/usr\/bin\/python3\.\d+$/);
  });

  it('a #! script outside any writable place, unknown, then deleted while it runs: deleted_executable', async () => {
    const dir = privateDir();
    const job = script(dir, 'job.sh', '#!/bin/sh\nread line\n');
    await running(spawnWaiting(job, []), '/usr/bin/dash');
    expect(about(check(), job).map(([kind]) => kind)).toEqual(['unknown_executable']);
    spawnSync('rm', [job]);
    expect(about(check(), job).map(([kind]) => kind)).toEqual(['deleted_executable', 'unknown_executable']);
  });

  it("an allow rule for the script, or the baseline, makes it known; the interpreter list is the policy's", async () => {
    const dir = privateDir();
    const job = script(dir, 'report.sh', 'read line\n');
    await running(spawnWaiting('bash', [job]), '/usr/bin/bash');
    expect(about(check(policyFile(`  allow:\n    - exe: ${dir}/*.sh\n`)), job)).toEqual([]);
    expect(about(check(policyFile('  interpreters: [python3*]\n')), job)).toEqual([]);
    const stateDir = tempDir();
    const withBaseline = args(policyFile(), stateDir);
    expect(runCli([...withBaseline, 'baseline', 'init']).code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(join(stateDir, 'baseline.json'), 'utf8')).sections.processes)).toContain(job);
    expect(
      JSON.parse(runCli([...withBaseline, 'check', '--format', 'json']).stdout).findings.filter(
        (f: { subject: Record<string, unknown> }) => f.subject['exe'] === job,
      ),
    ).toEqual([]);
  });

  it('packaged scripts and inline code are no finding', async () => {
    const shell = await running(spawnWaiting('sh', ['-c', 'read line; true']), '/usr/bin/dash');
    const inline = await running(spawnOwned(python, ['-c', 'import time; time.sleep(300)']), '/usr/bin/python3');
    // The control: a script from a temporary directory, which the same look must find.
    const planted = await running(spawnWaiting('sh', [script(tempDir(), 'planted.sh', 'read line\n')]), '/usr/bin/dash');
    const document = check();
    // Judged by PID: other test files run scripts of their own at the same time.
    expect(findingsOf(document, planted).map(([kind]) => kind)).toContain('unknown_executable');
    expect(findingsOf(document, shell)).toEqual([]);
    expect(findingsOf(document, inline)).toEqual([]);
  });
});

describe('paths a process makes up', { timeout: 120_000 }, () => {
  it('a script operand through a file, or far too long, is a file that is not there, never an error', async () => {
    const index = await buildPackageIndex('/');
    for (const path of ['/etc/hostname/x.sh', `/tmp/${'a'.repeat(5000)}.sh`]) {
      expect(statNamedFile('/', path)).toBeUndefined();
      expect(factsOfNamedFile('/', path, true, index)).toEqual({ packaged: false, worldWritable: false, replacedAt: undefined });
      expect(hostRealPath('/', path)).toBe(path);
    }
  });
});

describe('a program run by the dynamic loader is judged, not the loader', { timeout: 120_000 }, () => {
  it('ld-linux-x86-64.so.2 /tmp/x 300: the noexec bypass is writable_location for /tmp/x, naming the loader', async () => {
    const dir = tempDir();
    const x = join(dir, 'x');
    copyFileSync('/usr/bin/sleep', x);
    chmodSync(x, 0o755);
    await running(spawnOwned(loader, [x, '300']), '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
    expect(about(check(), x)).toEqual([
      ['writable_location', { exe: x, loader: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', user: 'root' }],
      ['unknown_executable', { exe: x, loader: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', user: 'root' }],
    ]);
  });
});

describe('an executable on a detached mount, the way runc starts its init', { timeout: 120_000 }, () => {
  const fixture = join(repoRoot, 'test/fixtures/processes/detached-exec.py');
  /** Run `file` from a bind mount detached before the exec, under a parent that runs packaged python3. */
  async function detached(file: string, argv: string[]): Promise<number> {
    const parent = spawnOwned(python, [fixture, file, ...argv]);
    const pid = Number((await waitForOutput(parent, /pid (\d+)/))[1]);
    await until(
      `process ${pid} running from a detached mount`,
      async () => readlinkSync(`/proc/${pid}/exe`),
      (link) => link === '/',
    );
    return pid;
  }

  it('the very file its parent runs is judged as that file; any other file stays unknown under the path it shows', async () => {
    const own = await detached(python, ['python3', '-c', 'import time; time.sleep(300)']);
    const tool = join(privateDir(), 'tool');
    copyFileSync('/usr/bin/sleep', tool);
    chmodSync(tool, 0o755);
    const other = await detached(tool, ['tool', '300']);
    const document = check();
    expect(findingsOf(document, own)).toEqual([]);
    expect(findingsOf(document, other)).toEqual([['unknown_executable', { exe: '/', user: 'root' }]]);
  });
});

describe('preloaded and injected libraries', { timeout: 120_000 }, () => {
  it('LD_PRELOAD of a library in /tmp into a packaged program is injected_library, mapped and preloaded', async () => {
    const dir = tempDir();
    const library = join(dir, 'libhook.so');
    copyFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1', library);
    const pid = await running(spawnOwned('/usr/bin/sleep', ['300'], { env: { ...process.env, LD_PRELOAD: library } }), '/usr/bin/sleep');
    const found = check().findings.filter((f) => f.kind === 'injected_library' && f.subject['library'] === library);
    expect(found.map((f) => [f.severity, f.subject])).toEqual([['critical', { exe: '/usr/bin/sleep', library, user: 'root' }]]);
    expect(found[0]!.message).toBe(
      `it maps executable code from ${library}: it lies in a temporary or world-writable place (/tmp/**) (PID ${pid})`,
    );
  });

  it('serve reads the code of new processes, not every process at every scrape', async () => {
    const exporter = await startExporter(args(policyFile()));
    const metrics = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const inspected = async () => sampleValue(await metrics(), 'hostguard_process_code_inspections_total', { result: 'inspected' }) ?? 0;
    // The first collection reads every process once, in the background of the scrapes.
    const first = await until('the first reading of every process', inspected, (n) => n > 0);
    const dir = tempDir();
    const library = join(dir, 'libhook.so');
    copyFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1', library);
    await running(spawnOwned('/usr/bin/sleep', ['300'], { env: { ...process.env, LD_PRELOAD: library } }), '/usr/bin/sleep');
    const injected = (body: string) =>
      sampleValue(body, 'hostguard_process_flagged', { exe: '/usr/bin/sleep', user_class: 'root', kind: 'injected_library' });
    const body = await until('the injected library', metrics, (b) => injected(b) === 1);
    expect(injected(body)).toBe(1);
    // Scrapes in between read only the new processes' code: far fewer than the first sweep.
    const before = await inspected();
    await metrics();
    await metrics();
    expect((await inspected()) - before).toBeLessThan(first);
  });

  it('a reading is judged again when the policy changes, without reading the process again', async () => {
    const policy = policyFile();
    const exporter = await startExporter(args(policy));
    const metrics = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const dir = tempDir();
    const library = join(dir, 'libhook.so');
    copyFileSync('/usr/lib/x86_64-linux-gnu/libz.so.1', library);
    await running(spawnOwned('/usr/bin/sleep', ['300'], { env: { ...process.env, LD_PRELOAD: library } }), '/usr/bin/sleep');
    const injected = (body: string) =>
      sampleValue(body, 'hostguard_process_flagged', { exe: '/usr/bin/sleep', user_class: 'root', kind: 'injected_library' }) ?? 0;
    await until('the injected library', metrics, (b) => injected(b) === 1);
    // Scrapes in between keep the judgment made of the reading; an exception in the reloaded policy applies to it at once.
    expect(injected(await metrics())).toBe(1);
    writeFileSync(policy, `processes:\n  hidden_sweep: { enabled: false }\n  writable_locations: { except: ['${dir}/**'] }\n`);
    expect((await fetch(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    expect(injected(await metrics())).toBe(0);
  });
});

describe('short-lived scripts and inline code, by the watch of new PIDs', { timeout: 120_000 }, () => {
  it('a script from /tmp that is gone by the next scrape is counted as writable_location; sh -c and a pipe into sh as inline code', async () => {
    const exporter = await startExporter(args(policyFile()));
    const body = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const writable = async () => sampleValue(await body(), 'hostguard_process_starts_total', { verdict: 'writable_location' }) ?? 0;
    const inline = async (via: string) =>
      sampleValue(await body(), 'hostguard_process_inline_code_total', { interpreter: 'dash', via }) ?? 0;
    const before = { writable: await writable(), argument: await inline('argument'), stdin: await inline('stdin') };
    // Each lives until the test lets it go, once the watch has counted it: however slow the machine, none is missed for being quick.
    const dir = tempDir();
    const go = join(dir, 'go');
    const wait = `while [ ! -e ${go} ]; do sleep 0.05; done`;
    const shortScript = script(dir, 'y.sh', `${wait}\n`);
    const children = [
      spawnOwned('sh', [shortScript]),
      spawnOwned('sh', ['-c', `${wait}; true`]),
      spawnOwned('sh', [], { stdio: ['pipe', 'ignore', 'ignore'] }),
    ];
    children[2]!.stdin!.end(`${wait}\n`);
    await until(
      'the three counted by the watch',
      async () => [await writable(), await inline('argument'), await inline('stdin')],
      ([w, a, i]) => w! > before.writable && a! > before.argument && i! > before.stdin,
    );
    const exits = children.map(
      (c) => new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', resolve))),
    );
    writeFileSync(go, '');
    expect(await Promise.all(exits)).toEqual([0, 0, 0]);
  });
});

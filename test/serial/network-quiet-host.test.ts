import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { repoRoot, runCli, startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import { remoteHost } from '../helpers/netns.js';
import { spawnOwned, stopProcess } from '../helpers/processes.js';
import { childListeners } from '../helpers/sockets.js';
import { requireTool } from '../helpers/tools.js';
import { dpkgTestLock } from '../helpers/dpkg-lock.js';

describe('a quiet host, as the network collector sees it', () => {
  it('after a baseline has zero findings, and the next check finds a listener started since', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'policy.yml'), 'listeners:\n  hidden_ports:\n    enabled: false\n');
    const args = ['--collector.disable-defaults', '--collector.network', '--state.dir', dir, '--config.file', join(dir, 'policy.yml')];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const quiet = runCli([...args, 'check', '--format', 'json']);
    expect(JSON.parse(quiet.stdout)).toEqual({ findings: [] });
    expect(quiet.code).toBe(0);

    const { ports } = await childListeners();
    const planted = runCli([...args, 'check', '--format', 'json']);
    expect(planted.code).toBe(1);
    const found = (JSON.parse(planted.stdout) as FindingsDocument).findings.map(
      (f) => `${f.kind} ${f.subject.protocol} ${f.subject.port} ${f.subject.reason}`,
    );
    expect(found.sort()).toEqual(
      [`tcp ${ports.tcp4}`, `tcp ${ports.tcp6}`, `udp ${ports.udp4}`, `udp ${ports.udp6}`]
        .map((p) => `unexpected_listener ${p} not_allowed`)
        .sort(),
    );
  });

  // As in processes-quiet-host.test.ts: the VM's sealed-memfd supervisor and the test runner's own toolchain.
  const toolchain = `${repoRoot}/node_modules/**`;
  const policy = `processes:
  allow:
    - exe: "/memfd:sealed-*"
      users: [root]
    - exe: ${JSON.stringify(toolchain)}
  writable_locations:
    except: ["/memfd:sealed-*", ${JSON.stringify(toolchain)}]
  hidden_sweep: { enabled: false }
listeners:
  hidden_ports: { enabled: false }
`;

  /** A package repository with one package whose maintainer script runs sh, perl, python3 and awk, and a file to download slowly. */
  function repository(dir: string): string {
    const root = join(dir, 'pkg');
    mkdirSync(join(root, 'DEBIAN'), { recursive: true });
    mkdirSync(join(root, 'usr/share/doc/hostguard-quiet-test'), { recursive: true });
    writeFileSync(
      join(root, 'DEBIAN/control'),
      'Package: hostguard-quiet-test\nVersion: 1.0\nArchitecture: all\nMaintainer: hostguard tests <tests@example.invalid>\nDescription: a package the quiet-host test installs and purges\n',
    );
    writeFileSync(
      join(root, 'DEBIAN/postinst'),
      '#!/bin/sh\nset -e\nperl -e 1\n/usr/bin/python3 -c "import json"\nawk "BEGIN { exit 0 }"\nsleep 1\n',
    );
    chmodSync(join(root, 'DEBIAN/postinst'), 0o755);
    writeFileSync(join(root, 'usr/share/doc/hostguard-quiet-test/README'), 'quiet\n');
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, join(repo, 'hostguard-quiet-test_1.0_all.deb')], { stdio: 'ignore' });
    writeFileSync(
      join(repo, 'Packages'),
      execFileSync('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], {
        cwd: repo,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    // Larger than the socket buffers of both ends, so the download stays established while it is slowed.
    writeFileSync(join(repo, 'download'), Buffer.alloc(30_000_000, 'x'));
    return repo;
  }

  it('keeps zero findings while apt fetches and installs a package whose scripts run interpreters and curl downloads from a cron job; ss never runs', async () => {
    for (const [tool, pkg] of [
      ['dpkg-deb', 'dpkg'],
      ['dpkg-scanpackages', 'dpkg-dev'],
      ['apt-get', 'apt'],
      ['curl', 'curl'],
      ['flock', 'util-linux'],
      ['/usr/bin/python3', 'python3'],
    ])
      requireTool(tool!, pkg!);
    const dir = tempDir();
    const repo = repository(dir);
    // The mirror is a host of the test's own: a namespace behind a veth pair on a private /30.
    const mirror = remoteHost();
    mirror.spawn('/usr/bin/python3', ['-m', 'http.server', '80', '--bind', mirror.remoteAddress, '--directory', repo]);
    await eventually(() => mirror.run('ss', ['-Htln', 'sport = :80']).trim() !== '', { what: 'the mirror listening' });
    writeFileSync(join(dir, 'sources.list'), `deb [trusted=yes] http://${mirror.remoteAddress}/ ./\n`);
    for (const sub of ['parts', 'lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, sub), { recursive: true });
    const aptOptions = [
      `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
      `Dir::Etc::SourceParts=${join(dir, 'parts')}`,
      `Dir::State::Lists=${join(dir, 'lists')}`,
      `Dir::Cache=${join(dir, 'cache')}`,
      'APT::Sandbox::User=root',
    ].flatMap((o) => ['-o', o]);

    writeFileSync(join(dir, 'policy.yml'), policy);
    const args = [
      '--state.dir',
      dir,
      '--config.file',
      join(dir, 'policy.yml'),
      '--collector.disable-defaults',
      '--collector.processes',
      '--collector.network',
      '--findings.show-details',
    ];
    expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
    const exporter = await startExporter(args);

    // Scrape all along, as Prometheus would, keeping every finding seen and the most outgoing
    // connections counted. The pause paces the scrapes; nothing waits on it.
    const scrapePaceMs = 100;
    const seen: FindingsDocument['findings'] = [];
    let mostOutbound = 0;
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        seen.push(...((await (await fetch(`${exporter.url}/api/findings`)).json()) as FindingsDocument).findings);
        mostOutbound = Math.max(
          mostOutbound,
          sampleValue(await (await fetch(`${exporter.url}/metrics`)).text(), 'hostguard_network_outbound_connections', {
            protocol: 'tcp',
          }) ?? 0,
        );
        await new Promise((r) => setTimeout(r, scrapePaceMs));
      }
    })();
    try {
      // Asynchronous, so the scrapes go on while each runs.
      const run = (command: string, commandArgs: string[]) =>
        new Promise<void>((resolve, reject) =>
          execFile(command, commandArgs, { timeout: 180_000 }, (error, _stdout, stderr) =>
            error ? reject(new Error(`${command} ${commandArgs.join(' ')}: ${stderr}`)) : resolve(),
          ),
        );
      await run('apt-get', [...aptOptions, 'update']);
      // A cron job's shell running curl: a slow download, so that collections see its connection.
      const cron = spawnOwned('setsid', [
        '/bin/sh',
        '-c',
        `curl -fsS --limit-rate 5M -o /dev/null http://${mirror.remoteAddress}/download`,
      ]);
      await run('flock', [dpkgTestLock, 'apt-get', ...aptOptions, 'install', '-y', '--no-install-recommends', 'hostguard-quiet-test']);
      await run('flock', [dpkgTestLock, 'dpkg', '--purge', 'hostguard-quiet-test']);
      expect(await stopProcessWhenDone(cron)).toBe(0);
    } finally {
      spawnSync('flock', [dpkgTestLock, 'dpkg', '--purge', 'hostguard-quiet-test'], { stdio: 'ignore' });
      scraping = false;
      await scraper;
    }
    expect(seen).toEqual([]);
    // The connections were there to judge; none had a finding, so ss was never run.
    expect(mostOutbound).toBeGreaterThanOrEqual(1);
    expect(sampleValue(await (await fetch(`${exporter.url}/metrics`)).text(), 'hostguard_network_tcp_info_reads_total')).toBe(0);
    await stopProcess(exporter.child);
    await mirror.close();
  }, 300_000);
});

/** The exit code of a child that finishes on its own (a bounded download). */
function stopProcessWhenDone(child: ReturnType<typeof spawnOwned>): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

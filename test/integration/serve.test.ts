import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { sampleValue } from '../helpers/exposition.js';
import { stopProcess, waitForOutput } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

async function text(url: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

describe('serve', () => {
  it('serves metrics that Prometheus parses, and the landing, health and findings endpoints', async () => {
    const promtool = requireTool('promtool', 'prometheus');
    const dir = tempDir();
    const exporter = await startExporter(['--state.dir', dir, '--collector.disable-defaults']);
    const metrics = await text(`${exporter.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: metrics.body, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    expect(sampleValue(metrics.body, 'hostguard_build_info')).toBe(1);

    const health = await text(`${exporter.url}/healthz`);
    expect([health.status, health.body]).toEqual([200, 'ok\n']);

    const landing = await text(`${exporter.url}/`);
    expect(landing.status).toBe(200);
    expect(landing.type).toMatch(/^text\/html/);
    expect(landing.body).toContain('<a href="metrics">Metrics</a>');

    const findings = await text(`${exporter.url}/api/findings`);
    expect(findings.type).toMatch(/^application\/json/);
    const check = runCli(['--state.dir', dir, '--collector.disable-defaults', 'check', '--format', 'json']);
    expect(JSON.parse(findings.body)).toEqual(JSON.parse(check.stdout));

    expect((await text(`${exporter.url}/nope`)).status).toBe(404);
  });

  it('serves metrics under a custom telemetry path', async () => {
    const exporter = await startExporter(['--state.dir', tempDir(), '--collector.disable-defaults', '--web.telemetry-path', '/custom']);
    expect((await text(`${exporter.url}/custom`)).body).toContain('hostguard_build_info');
    expect((await text(`${exporter.url}/metrics`)).status).toBe(404);
  });

  it('learns a baseline on first start and says so loudly', async () => {
    const dir = tempDir();
    const exporter = await startExporter(['--state.dir', dir, '--collector.disable-defaults', '--log.format', 'json']);
    expect(existsSync(join(dir, 'baseline.json'))).toBe(true);
    const body = (await text(`${exporter.url}/metrics`)).body;
    expect(sampleValue(body, 'hostguard_baseline_trust_on_first_use')).toBe(1);
    expect(sampleValue(body, 'hostguard_baseline_verified')).toBe(1);
    await stopProcess(exporter.child);
    const second = await startExporter(['--state.dir', dir, '--collector.disable-defaults']);
    expect(sampleValue((await text(`${second.url}/metrics`)).body, 'hostguard_baseline_trust_on_first_use')).toBe(1);
  });

  it('reloads the policy on SIGHUP and POST /-/reload, keeping the running policy when the new one is broken', async () => {
    const dir = tempDir();
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, 'processes:\n  allow: []\n');
    const exporter = await startExporter(['--state.dir', dir, '--collector.disable-defaults', '--config.file', policy]);
    const configHash = async () => {
      const body = (await text(`${exporter.url}/metrics`)).body;
      const line = body.split('\n').find((l) => l.startsWith('hostguard_config_info{'));
      return { ok: sampleValue(body, 'hostguard_config_last_reload_successful'), sha: /sha256="([0-9a-f]+)"/.exec(line ?? '')?.[1] };
    };
    const initial = await configHash();
    expect(initial.ok).toBe(1);

    writeFileSync(policy, 'processes:\n  allow:\n    - exe: /usr/bin/true\n');
    process.kill(exporter.child.pid!, 'SIGHUP');
    await waitForOutput(exporter.child, /msg="policy reloaded"/);
    const afterHup = await configHash();
    expect(afterHup.ok).toBe(1);
    expect(afterHup.sha).not.toBe(initial.sha);

    writeFileSync(policy, 'processes:\n  allow:\n    - exe: /usr/bin/true\n      color: red\n');
    const reload = await text(`${exporter.url}/-/reload`, { method: 'POST' });
    expect(reload.status).toBe(500);
    expect(reload.body).toContain(`${policy}:4: processes.allow[0].color: unknown key`);
    const afterBad = await configHash();
    expect(afterBad).toEqual({ ok: 0, sha: afterHup.sha });

    writeFileSync(policy, 'processes:\n  allow: []\n');
    expect((await text(`${exporter.url}/-/reload`, { method: 'POST' })).status).toBe(200);
    expect(await configHash()).toEqual({ ok: 1, sha: initial.sha });
  });

  it('fails clearly when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = runCli([
        '--state.dir',
        tempDir(),
        '--collector.disable-defaults',
        '--web.listen-address',
        `127.0.0.1:${port}`,
      ]);
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      blocker.close();
    }
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exporter = await startExporter(['--state.dir', tempDir(), '--collector.disable-defaults']);
    expect(await stopProcess(exporter.child, 'SIGTERM')).toBe(0);
  });
});

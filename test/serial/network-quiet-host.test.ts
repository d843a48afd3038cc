import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FindingsDocument } from '../../src/findings/report.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { childListeners } from '../helpers/sockets.js';

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
    const found = (JSON.parse(planted.stdout) as FindingsDocument).findings.map((f) => `${f.kind} ${f.subject.protocol} ${f.subject.port} ${f.subject.reason}`);
    expect(found.sort()).toEqual(
      [`tcp ${ports.tcp4}`, `tcp ${ports.tcp6}`, `udp ${ports.udp4}`, `udp ${ports.udp6}`].map((p) => `unexpected_listener ${p} not_allowed`).sort(),
    );
  });
});

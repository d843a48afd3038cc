import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

describe('integrity on this host with the default policy', () => {
  it('reports nothing after `baseline init` while nothing changes', () => {
    const args = ['--collector.disable-defaults', '--collector.integrity', '--state.dir', tempDir()];
    const init = runCli([...args, 'baseline', 'init']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/integrity \d+/);
    const check = runCli([...args, 'check']);
    expect(check.stdout).toBe('no findings\n');
    expect(check.code).toBe(0);
  });
});

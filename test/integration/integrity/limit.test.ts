import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';

/**
 * A watched directory flooded with files (an intruder's way to exhaust the scanner, or just a huge
 * tree) is not listed past integrity.max_paths: memory stays bounded, the scan says so, and what it
 * could not list is never reported as removed.
 */
describe('integrity.max_paths', () => {
  it('stops listing a directory too large for the limit, reports over_limit, and still watches the rest', () => {
    const root = tempDir();
    const small = join(root, 'small');
    const flood = join(root, 'flood');
    mkdirSync(small);
    mkdirSync(flood);
    for (let i = 0; i < 3; i++) writeFileSync(join(small, `f${i}`), `content ${i}`);
    for (let i = 0; i < 40; i++) writeFileSync(join(flood, `junk${i}`), '');
    const policy = join(root, 'policy.yml');
    writeFileSync(policy, `integrity:\n  paths: [${JSON.stringify(small)}, ${JSON.stringify(flood)}]\n  max_paths: 10\n  running_executables: false\n  package_database: false\n`);
    const args = ['--state.dir', join(root, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.integrity', '--log.format', 'json'];

    const init = runCli([...args, 'baseline', 'init']);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('integrity 5'); // small, its 3 files, and flood itself
    expect(init.stderr).toContain(`over limit: ${flood}`);

    writeFileSync(join(small, 'f1'), 'CHANGED 1');
    unlinkSync(join(flood, 'junk7'));
    const check = runCli([...args, 'check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ kind: string; subject: { path: string } }> }).findings;
    expect(findings.map((f) => [f.kind, f.subject.path])).toEqual([['content_changed', join(small, 'f1')]]);
    expect(check.stderr).toMatch(/"over_limit":1/);
  });
});

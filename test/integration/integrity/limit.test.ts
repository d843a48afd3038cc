import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';

type Findings = Array<{ kind: string; subject: { path: string } }>;

/** A host with `small` (3 files) and `flood` (40 files) under one directory, watched with `paths`. */
function floodedHost(paths: (root: string) => string[], maxPaths: number) {
  const root = tempDir();
  const small = join(root, 'small');
  const flood = join(root, 'flood');
  mkdirSync(small);
  mkdirSync(flood);
  for (let i = 0; i < 3; i++) writeFileSync(join(small, `f${i}`), `content ${i}`);
  for (let i = 0; i < 40; i++) writeFileSync(join(flood, `junk${i}`), '');
  const policy = join(root, 'policy.yml');
  const watched = paths(root)
    .map((p) => JSON.stringify(p))
    .join(', ');
  writeFileSync(
    policy,
    `integrity:\n  paths: [${watched}]\n  max_paths: ${maxPaths}\n  running_executables: false\n  package_database: false\n  ssh_authorized_keys: false\n  privileged_files: { enabled: false }\n`,
  );
  const args = [
    '--state.dir',
    join(root, 'state'),
    '--config.file',
    policy,
    '--collector.disable-defaults',
    '--collector.integrity',
    '--log.format',
    'json',
  ];
  const check = () => {
    const result = runCli([...args, 'check', '--format', 'json']);
    return { ...result, findings: (JSON.parse(result.stdout) as { findings: Findings }).findings.map((f) => [f.kind, f.subject.path]) };
  };
  return { root, small, flood, init: () => runCli([...args, 'baseline', 'init']), check };
}

/**
 * A watched directory flooded with files (an intruder's way to exhaust the scanner, or just a huge
 * tree) is not listed past integrity.max_paths: memory stays bounded, the scan says so, and what it
 * could not list is never reported as removed.
 */
describe('integrity.max_paths', () => {
  it('stops listing a directory too large for the limit, reports over_limit, and still watches the rest', () => {
    const host = floodedHost((root) => [join(root, 'small'), join(root, 'flood')], 10);
    const init = host.init();
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('integrity 5'); // small, its 3 files, and flood itself
    expect(init.stderr).toContain(`over limit: ${host.flood}`);

    writeFileSync(join(host.small, 'f1'), 'CHANGED 1');
    unlinkSync(join(host.flood, 'junk7'));
    const check = host.check();
    expect(check.findings).toEqual([['content_changed', join(host.small, 'f1')]]);
    expect(check.stderr).toMatch(/"over_limit":1/);
  });

  it('expands a glob by its matches only: a crowded parent does not hide the removal of a file a root listed there', () => {
    const host = floodedHost((root) => [join(root, 'small'), join(root, 'flood'), join(root, 'x*')], 10);
    for (let i = 0; i < 12; i++) writeFileSync(join(host.root, `other${i}`), ''); // the glob's parent holds more names than the limit leaves
    writeFileSync(join(host.root, 'xa'), 'matched');
    const init = host.init();
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('integrity 6'); // small, its 3 files, flood itself, and xa

    unlinkSync(join(host.small, 'f0'));
    unlinkSync(join(host.root, 'xa'));
    const check = host.check();
    expect(check.findings).toEqual([
      ['removed', join(host.small, 'f0')],
      ['removed', join(host.root, 'xa')],
    ]);
    expect(check.stderr).toMatch(/"over_limit":1/);
  });

  it('a glob still pending when the limit is reached hides only what it could match, not every path', () => {
    // More watched paths than max_paths: the limit is reached before the glob is expanded at all.
    const host = floodedHost((root) => [0, 1, 2].map((i) => join(root, 'small', `f${i}`)).concat(join(root, 'x*')), 2);
    const init = host.init();
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('integrity 2'); // small/f0 and small/f1
    expect(init.stderr).toContain(`over limit: ${join(host.root, 'x*')}`);

    unlinkSync(join(host.small, 'f0'));
    const check = host.check();
    // f2, left unlisted by the limit before, now fits: it is new to the baseline.
    expect(check.findings).toEqual([
      ['added', join(host.small, 'f2')],
      ['removed', join(host.small, 'f0')],
    ]);
    expect(check.stderr).toMatch(/"over_limit":1/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fimWatchPaths, globExpansions, renderFimRules } from '../../scripts/audit-rules/render.js';
import { defaultWatchedPaths } from '../../src/config/sections/integrity.js';
import { compileGlob, isGlob } from '../../src/match/glob.js';
import { repoRoot } from '../helpers/cli.js';

const shipped = join(repoRoot, 'deploy', 'audit', 'hostguard-fim.rules');
const watchRules = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('-w '))
    .map((l) => /^-w (\S+) -p wa -k hostguard_fim$/.exec(l)?.[1] ?? `malformed: ${l}`);

describe('the shipped watch rules for who-data (deploy/audit/hostguard-fim.rules)', () => {
  it('are generated from the default policy and up to date (run `npm run rules:audit`)', () => {
    expect(readFileSync(shipped, 'utf8')).toBe(renderFimRules());
  });

  it('watch every path of the default policy, each glob through names it matches', () => {
    const watched = new Set(watchRules(readFileSync(shipped, 'utf8')));
    for (const path of defaultWatchedPaths) {
      if (!isGlob(path)) {
        expect(watched.has(path), path).toBe(true);
        continue;
      }
      const names = globExpansions[path];
      expect(names, `${path} has no expansion in scripts/audit-rules/render.ts`).toBeDefined();
      expect(names!.length, path).toBeGreaterThan(0);
      const matches = compileGlob(path);
      for (const name of names!) {
        expect(matches(name), `${name} is not matched by ${path}`).toBe(true);
        expect(watched.has(name), name).toBe(true);
      }
    }
    expect(watched.has('/root/.ssh')).toBe(true);
  });

  it('name no glob, no path twice, and go on past a path the kernel refuses (-i)', () => {
    const text = readFileSync(shipped, 'utf8');
    const paths = watchRules(text);
    expect(paths.filter((p) => isGlob(p) || !p.startsWith('/'))).toEqual([]);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toEqual(fimWatchPaths());
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))[0]).toBe('-i');
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPolicyYaml } from '../../src/config/default-policy.js';
import { loadPolicy, parsePolicy } from '../../src/config/load-policy.js';
import { PolicyError } from '../../src/config/policy-error.js';
import { defaultWatchedPaths } from '../../src/config/sections/integrity.js';
import { defaultSysctls } from '../../src/config/sections/kernel.js';
import { tempDir } from '../helpers/cli.js';
import { policyError } from '../helpers/policy.js';

function errorOf(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('policy loading', () => {
  it('loads the embedded default with no file', () => {
    const loaded = loadPolicy(undefined);
    expect(loaded.source).toBe('embedded');
    expect(loaded.policy.processes.allow).toEqual([]);
    expect(loaded.policy.outbound.judge).toBe('unusual');
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('embeds the same watched paths and sysctls, each with its reason, as a policy that leaves them out gets', () => {
    const embedded = loadPolicy(undefined).policy;
    const defaults = parsePolicy('{}\n', 'p.yml').policy;
    expect(embedded.integrity.paths).toEqual([...defaultWatchedPaths]);
    expect(defaults.integrity.paths).toEqual([...defaultWatchedPaths]);
    expect(embedded.kernel.sysctls).toEqual([...defaultSysctls]);
    expect(embedded.integrity.privileged_files).toEqual(defaults.integrity.privileged_files);
    // Every group of paths in the embedded YAML is preceded by a comment saying why.
    const lines = defaultPolicyYaml.slice(defaultPolicyYaml.indexOf('integrity:\n'), defaultPolicyYaml.indexOf('  exclude:')).split('\n');
    lines.forEach((line, i) => {
      if (line.startsWith('    - ') && !lines[i - 1]!.startsWith('    - ')) expect(lines[i - 1], line).toMatch(/^\s+# /);
    });
  });

  it('loads a valid file and fills defaults', () => {
    const loaded = parsePolicy(
      'processes:\n  allow:\n    - exe: /usr/sbin/sshd\n      users: [root]\nlisteners:\n  allow:\n    - port: 22\n',
      'p.yml',
    );
    expect(loaded.policy.processes.allow).toEqual([{ exe: '/usr/sbin/sshd', users: ['root'] }]);
    expect(loaded.policy.listeners.allow).toEqual([{ port: 22, protocol: 'any', address: 'any' }]);
    expect(loaded.policy.integrity.schedule).toBe('*/15 * * * *');
  });

  it('treats an empty file as an empty policy', () => {
    expect(parsePolicy('# nothing yet\n', 'p.yml').policy.processes.allow).toEqual([]);
  });

  it('names file and line of a YAML syntax error', () => {
    const error = errorOf(() => parsePolicy('processes:\n  allow: [\n    - exe: /bin/x\n', 'bad.yml'));
    expect(error.file).toBe('bad.yml');
    expect(error.line).toBeGreaterThan(1);
    expect(error.message).toMatch(/^bad\.yml:\d+: invalid YAML: /);
  });

  it('rejects an unknown key with its line, its path and the keys that are allowed', () => {
    const text = ['processes:', '  allow:', '    - exe: /usr/bin/a', '    - exe: /usr/bin/b', '      user: root', ''].join('\n');
    const error = errorOf(() => parsePolicy(text, 'typo.yml'));
    expect(error.line).toBe(5);
    expect(error.key).toBe('processes.allow[1].user');
    expect(error.message).toBe('typo.yml:5: processes.allow[1].user: unknown key (allowed: exe, users, parent, comment)');
  });

  it('rejects an unknown top-level section', () => {
    const error = errorOf(() => parsePolicy('processes: {}\nprocess:\n  allow: []\n', 'p.yml'));
    expect(error.message).toBe(
      'p.yml:2: process: unknown key (allowed: processes, containers, listeners, outbound, shell_on_socket, integrity, kernel, auth, ids, audit)',
    );
  });

  it('rejects a wrong type with the line of the value', () => {
    const text = 'listeners:\n  allow:\n    - port: 22\n    - port: "ssh"\n';
    const error = errorOf(() => parsePolicy(text, 'p.yml'));
    expect(error.line).toBe(4);
    expect(error.key).toBe('listeners.allow[1].port');
  });

  it('rejects an invalid cron schedule', () => {
    const error = errorOf(() => parsePolicy('integrity:\n  schedule: "every hour"\n', 'p.yml'));
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/integrity\.schedule: not a cron expression/);
  });

  it.each([
    ['processes.allow[0].exe', 'processes:\n  allow:\n    - exe: "/opt/app[z-a]/*"\n', 3],
    ['processes.allow[0].parent', 'processes:\n  allow:\n    - exe: /usr/bin/a\n      parent: "/usr/[9-0]*"\n', 4],
    ['processes.writable_locations.paths[0]', 'processes:\n  writable_locations:\n    paths: ["/tmp/[z-a]"]\n', 3],
    ['processes.writable_locations.except[0]', 'processes:\n  writable_locations:\n    except: ["/tmp/[z-a]"]\n', 3],
    ['processes.protected_names[0].exe[0]', 'processes:\n  protected_names:\n    - name: sshd\n      exe: ["/usr/[z-a]"]\n', 4],
    ['listeners.allow[0].exe', 'listeners:\n  allow:\n    - port: 22\n      exe: "/usr/[z-a]"\n', 4],
    ['outbound.allow[0].exe[1]', 'outbound:\n  allow:\n    - exe: [/usr/bin/curl, "/usr/[z-a]"]\n', 3],
    ['integrity.paths[0]', 'integrity:\n  paths: ["/etc/[z-a]"]\n', 2],
    ['integrity.exclude[0]', 'integrity:\n  exclude: ["/etc/[z-a]"]\n', 2],
  ])('refuses a glob that cannot be compiled in %s, naming file, line and key', (key, yaml, line) => {
    expect(policyError(yaml)).toMatch(
      new RegExp(
        `^p\\.yml:${line}: ${key.replace(/[.[\]]/g, '\\$&')}: ".*" is not a valid glob \\(Range out of order in character class\\)$`,
      ),
    );
  });

  it('rejects a document that is not a mapping', () => {
    expect(errorOf(() => parsePolicy('- a\n- b\n', 'p.yml')).message).toMatch(/must be a mapping of sections/);
  });

  it('reports a missing file in one line naming it', () => {
    const error = errorOf(() => loadPolicy('/nonexistent/policy.yml'));
    expect(error.message).toBe(
      "/nonexistent/policy.yml: cannot read the policy file (ENOENT: no such file or directory, open '/nonexistent/policy.yml')",
    );
  });

  it('reads a policy file from disk', () => {
    const file = join(tempDir(), 'policy.yml');
    writeFileSync(file, 'processes:\n  allow:\n    - exe: /usr/bin/*\n');
    expect(loadPolicy(file).policy.processes.allow[0]?.exe).toBe('/usr/bin/*');
  });
});

describe('the annotated example policy', () => {
  it('loads without errors', () => {
    const loaded = loadPolicy(new URL('../../examples/policy.yml', import.meta.url).pathname);
    expect(loaded.policy.processes.allow.length).toBeGreaterThan(0);
  });

  it('shows every default persistence path and sysctl', () => {
    const { policy } = loadPolicy(new URL('../../examples/policy.yml', import.meta.url).pathname);
    expect(policy.integrity.paths).toEqual(expect.arrayContaining([...defaultWatchedPaths]));
    expect(policy.kernel.sysctls).toEqual([...defaultSysctls]);
  });
});

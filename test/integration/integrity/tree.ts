import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';

/** A small tree like a host's binaries and configuration, for the integrity tests. */
export function buildTree(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
  copyFileSync('/usr/bin/true', join(root, 'bin/true'));
  copyFileSync('/usr/bin/echo', join(root, 'bin/echo'));
  chmodSync(join(root, 'bin/true'), 0o755);
  chmodSync(join(root, 'bin/echo'), 0o755);
  writeFileSync(join(root, 'bin/report.sh'), '#!/bin/sh\necho report\n', { mode: 0o755 });
  symlinkSync('true', join(root, 'bin/ok'));
  writeFileSync(join(root, 'etc/sudoers'), 'root ALL=(ALL:ALL) ALL\n', { mode: 0o440 });
  writeFileSync(join(root, 'etc/cron.d/backup'), '0 3 * * * root /usr/local/bin/backup\n', { mode: 0o644 });
  writeFileSync(join(root, 'etc/motd'), 'welcome\n', { mode: 0o644 });
}

/** Overwrite a file in place with different content of the same size, then put its mtime back with `touch -r`. */
export function editKeepingSizeAndMtime(file: string): void {
  const reference = join(tempDir('hostguard-mtime-'), 'reference'); // outside the tree: its directory stays untouched
  execFileSync('touch', ['-r', file, reference]);
  const changed = readFileSync(file);
  changed[changed.length - 2] = changed[changed.length - 2] === 0x41 ? 0x42 : 0x41;
  writeFileSync(file, changed);
  execFileSync('touch', ['-r', reference, file]);
  unlinkSync(reference);
}

export interface PlantedChange {
  readonly kind: string;
  readonly path: string;
  readonly attribute?: string;
}

/** The changes of the issue, each on its own path, and what each must be reported as. */
export function plantChanges(root: string): PlantedChange[] {
  editKeepingSizeAndMtime(join(root, 'etc/cron.d/backup'));
  writeFileSync(join(root, 'bin/backdoor'), '#!/bin/sh\nexec /bin/sh -i\n', { mode: 0o755 });
  unlinkSync(join(root, 'etc/motd'));
  chmodSync(join(root, 'bin/echo'), 0o4755);
  chownSync(join(root, 'bin/report.sh'), 65534, 0);
  rmSync(join(root, 'bin/ok'));
  symlinkSync('/bin/sh', join(root, 'bin/ok'));
  return [
    { kind: 'content_changed', path: join(root, 'etc/cron.d/backup') },
    { kind: 'added', path: join(root, 'bin/backdoor') },
    { kind: 'removed', path: join(root, 'etc/motd') },
    { kind: 'metadata_changed', path: join(root, 'bin/echo'), attribute: 'setuid' },
    { kind: 'metadata_changed', path: join(root, 'bin/report.sh'), attribute: 'owner' },
    { kind: 'metadata_changed', path: join(root, 'bin/ok'), attribute: 'link_target' },
  ];
}

/**
 * A policy file that watches `paths` only, scanning every second in `serve`: no accounts' SSH keys
 * and no search of the whole host for privileged files (their own tests turn them on).
 */
export function integrityPolicy(
  paths: readonly string[],
  options: { running?: boolean; packages?: boolean; schedule?: string } = {},
): string {
  const file = join(tempDir('hostguard-policy-'), 'policy.yml');
  writeFileSync(
    file,
    [
      'integrity:',
      '  paths:',
      ...paths.map((p) => `    - ${JSON.stringify(p)}`),
      `  schedule: ${JSON.stringify(options.schedule ?? '* * * * * *')}`,
      `  running_executables: ${options.running ?? false}`,
      `  package_database: ${options.packages ?? false}`,
      '  ssh_authorized_keys: false',
      '  privileged_files: { enabled: false }',
      '',
    ].join('\n'),
  );
  return file;
}

/** Arguments that run the integrity collector alone, on a policy and a state directory of the test's own. */
export function integrityArgs(policy: string, stateDir: string): string[] {
  return ['--collector.disable-defaults', '--collector.integrity', '--config.file', policy, '--state.dir', stateDir];
}

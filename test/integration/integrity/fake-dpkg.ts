import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

interface FakePackage {
  version: string;
  state: 'installed' | 'config-files';
  files: Record<string, string>;
  conffiles: Record<string, string>;
}

/**
 * A root directory with a dpkg database written the way dpkg writes it: the status file replaced
 * by rename, PACKAGE.list and PACKAGE.md5sums in info/, configuration files' MD5s in the status.
 * install/remove/purge change the files and the database together, as dpkg would, for the
 * integration tests that run without touching the host's packages (test/serial does that).
 */
export class FakeDpkgRoot {
  readonly root = tempDir('hostguard-rootfs-');
  private readonly packages = new Map<string, FakePackage>();

  constructor() {
    mkdirSync(join(this.root, 'var/lib/dpkg/info'), { recursive: true });
    for (const lock of ['lock', 'lock-frontend']) writeFileSync(join(this.root, 'var/lib/dpkg', lock), '');
    this.writeStatus();
  }

  path(hostPath: string): string {
    return join(this.root, hostPath);
  }

  /** Install or upgrade: every file written (a new inode, as dpkg's rename gives), then the database. */
  install(name: string, version: string, files: Record<string, string>, conffiles: Record<string, string> = {}): void {
    const previous = this.packages.get(name);
    for (const path of Object.keys(previous?.files ?? {})) if (!(path in files)) rmSync(this.path(path), { force: true });
    for (const [path, content] of Object.entries(files)) this.writeFile(path, content, 0o755);
    for (const [path, content] of Object.entries(conffiles)) this.writeFile(path, content, 0o644);
    this.packages.set(name, { version, state: 'installed', files, conffiles });
    this.writeInfo(name);
    this.writeStatus();
  }

  /** `dpkg -r`: the files go, the configuration files and their record stay. */
  remove(name: string): void {
    const pkg = this.packages.get(name)!;
    for (const path of Object.keys(pkg.files)) rmSync(this.path(path), { force: true });
    this.packages.set(name, { ...pkg, state: 'config-files', files: {} });
    this.writeInfo(name);
    this.writeStatus();
  }

  /** `dpkg -P`: everything goes. */
  purge(name: string): void {
    const pkg = this.packages.get(name)!;
    const paths = [...Object.keys(pkg.files), ...Object.keys(pkg.conffiles)];
    for (const path of paths) rmSync(this.path(path), { force: true });
    // Its directories go too, once empty, as dpkg removes them.
    for (const dir of [...new Set(paths.flatMap(ancestors))].sort().reverse()) {
      try {
        rmdirSync(this.path(dir));
      } catch {
        // not empty: another package's, or shared
      }
    }
    this.packages.delete(name);
    for (const suffix of ['list', 'md5sums']) rmSync(join(this.root, 'var/lib/dpkg/info', `${name}.${suffix}`), { force: true });
    this.writeStatus();
  }

  writeFile(path: string, content: string, mode = 0o644): void {
    const file = this.path(path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.dpkg-new`, content, { mode });
    renameSync(`${file}.dpkg-new`, file);
  }

  private writeInfo(name: string): void {
    const pkg = this.packages.get(name)!;
    const paths = [...Object.keys(pkg.files), ...Object.keys(pkg.conffiles)];
    const dirs = new Set(paths.flatMap((p) => ancestors(p)));
    const info = join(this.root, 'var/lib/dpkg/info');
    writeFileSync(join(info, `${name}.list.new`), ['/.', ...[...dirs].sort(), ...paths].join('\n') + '\n');
    renameSync(join(info, `${name}.list.new`), join(info, `${name}.list`));
    if (pkg.state === 'installed') {
      writeFileSync(
        join(info, `${name}.md5sums.new`),
        Object.entries(pkg.files)
          .map(([p, c]) => `${md5(c)}  ${p.slice(1)}\n`)
          .join(''),
      );
      renameSync(join(info, `${name}.md5sums.new`), join(info, `${name}.md5sums`));
    } else rmSync(join(info, `${name}.md5sums`), { force: true });
  }

  private writeStatus(): void {
    const stanzas = [...this.packages].map(([name, pkg]) => {
      const lines = [
        `Package: ${name}`,
        `Status: ${pkg.state === 'installed' ? 'install' : 'deinstall'} ok ${pkg.state}`,
        'Architecture: amd64',
        `Version: ${pkg.version}`,
      ];
      const conffiles = Object.entries(pkg.conffiles);
      if (conffiles.length > 0) lines.push('Conffiles:', ...conffiles.map(([p, c]) => ` ${p} ${md5(c)}`));
      return lines.join('\n') + '\n';
    });
    const status = join(this.root, 'var/lib/dpkg/status');
    writeFileSync(`${status}-new`, stanzas.join('\n'));
    renameSync(`${status}-new`, status);
  }
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== '/'; d = dirname(d)) out.push(d);
  return out;
}

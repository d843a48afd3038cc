import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileGlob, isGlob } from '../match/glob.js';
import { parsePasswd, type PasswdAccount } from '../rootfs/users.js';

/**
 * Watched paths that depend on the host's accounts: every account's SSH authorized keys (where
 * sshd's AuthorizedKeysFile says they are) and, as an opt-in, each account's shell start-up files.
 * Parsers are pure; `accountPaths` reads /etc/passwd and sshd's configuration (a few KiB) under
 * --path.rootfs: the caller expands again after each change the watch sees, and on each scan.
 */

/** sshd's default: `AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2`. */
const defaultAuthorizedKeys = ['.ssh/authorized_keys', '.ssh/authorized_keys2'];

/** What intruders append to for a login shell: the start-up files bash and zsh read. */
export const userStartupFiles = [
  '.bashrc',
  '.profile',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.zshrc',
  '.zprofile',
  '.zshenv',
  '.zlogin',
];

export interface SshdKeyFiles {
  /** Every AuthorizedKeysFile pattern in the configuration, Match blocks included (a superset is safe). */
  readonly patterns: readonly string[];
  /** Include arguments, as written (relative ones are relative to /etc/ssh). */
  readonly includes: readonly string[];
}

/** The AuthorizedKeysFile and Include lines of one sshd_config text. */
export function parseSshdConfig(text: string): SshdKeyFiles {
  const patterns: string[] = [];
  const includes: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toLowerCase();
    const values = splitArguments(match[2]!);
    if (keyword === 'authorizedkeysfile') patterns.push(...values.filter((v) => v.toLowerCase() !== 'none'));
    else if (keyword === 'include') includes.push(...values);
  }
  return { patterns, includes };
}

/** sshd's argument splitting: blanks separate, double quotes group. */
function splitArguments(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"|(\S+)/g)) out.push(match[1] ?? match[2]!);
  return out;
}

/**
 * The host path of an AuthorizedKeysFile pattern for one account: %h home, %u name, %U uid, %%
 * a percent sign; a relative path is relative to the home directory. Undefined for tokens sshd
 * does not expand in this option.
 */
export function expandKeyFile(pattern: string, account: PasswdAccount): string | undefined {
  let unknownToken = false;
  const expanded = pattern.replace(/%(.)/g, (_, token: string) => {
    if (token === '%') return '%';
    if (token === 'h') return account.home;
    if (token === 'u') return account.name;
    if (token === 'U') return String(account.uid);
    unknownToken = true;
    return '';
  });
  if (unknownToken) return undefined;
  const path = expanded.startsWith('/') ? expanded : `${account.home.replace(/\/+$/, '')}/${expanded}`;
  return path.replace(/\/+/g, '/');
}

/** Accounts whose keys or start-up files could matter: any with an absolute home (nologin accounts still forward ports with a key). */
function withHome(accounts: readonly PasswdAccount[]): PasswdAccount[] {
  return accounts.filter((a) => a.home.startsWith('/'));
}

/** sshd runs ~/.ssh/rc at every login of the account (unless PermitUserRC no): a key's companion. */
const userRc = '.ssh/rc';

export function authorizedKeyPaths(accounts: readonly PasswdAccount[], patterns: readonly string[]): string[] {
  const used = [...(patterns.length > 0 ? patterns : defaultAuthorizedKeys), userRc];
  const out = new Set<string>();
  for (const account of withHome(accounts)) {
    for (const pattern of used) {
      const path = expandKeyFile(pattern, account);
      // A path with glob characters would be read as a pattern: its directory is watched instead.
      if (path !== undefined) out.add(isGlob(path) ? path.slice(0, path.lastIndexOf('/')) || '/' : path);
    }
  }
  return [...out].sort();
}

export function startupFilePaths(accounts: readonly PasswdAccount[]): string[] {
  const out = new Set<string>();
  for (const account of withHome(accounts)) {
    const home = account.home.replace(/\/+$/, '');
    for (const name of userStartupFiles) out.add(`${home}/${name}`);
  }
  return [...out].sort();
}

const sshdConfig = '/etc/ssh/sshd_config';
const maxIncludeDepth = 16;

/** The account-dependent watched paths of a host (under `rootfs`). Missing files mean no accounts or sshd's defaults. */
export function accountPaths(rootfs: string, options: { readonly sshKeys: boolean; readonly startupFiles: boolean }): string[] {
  const onHost = (path: string) => (rootfs === '/' ? path : join(rootfs, path));
  if (!options.sshKeys && !options.startupFiles) return [];
  let accounts: PasswdAccount[] = [];
  try {
    accounts = parsePasswd(readFileSync(onHost('/etc/passwd'), 'utf8'));
  } catch {
    // no passwd (a minimal image): no accounts to watch
  }
  const paths: string[] = [];
  if (options.sshKeys) {
    const patterns: string[] = [];
    readSshdConfig(sshdConfig, 0, onHost, [], patterns);
    paths.push(...authorizedKeyPaths(accounts, patterns));
  }
  if (options.startupFiles) paths.push(...startupFilePaths(accounts));
  return [...new Set(paths)];
}

/** One configuration file and its Includes, each read once (`read` breaks include loops). */
function readSshdConfig(file: string, depth: number, onHost: (path: string) => string, read: string[], patterns: string[]): void {
  if (depth > maxIncludeDepth || read.includes(file)) return;
  read.push(file);
  let text: string;
  try {
    text = readFileSync(onHost(file), 'utf8');
  } catch {
    return; // no sshd, or an Include naming nothing: sshd's defaults
  }
  const parsed = parseSshdConfig(text);
  patterns.push(...parsed.patterns);
  for (const include of parsed.includes) {
    for (const path of expandInclude(include.startsWith('/') ? include : `/etc/ssh/${include}`, onHost))
      readSshdConfig(path, depth + 1, onHost, read, patterns);
  }
}

/** An Include argument's files, sorted as sshd's glob(3) sorts them; a pattern in the last segment only (sshd_config.d/*.conf). */
function expandInclude(pattern: string, onHost: (path: string) => string): string[] {
  if (!isGlob(pattern)) return [pattern];
  const slash = pattern.lastIndexOf('/');
  const dir = pattern.slice(0, slash) || '/';
  if (isGlob(dir)) return [];
  const matches = compileGlob(pattern.slice(slash + 1));
  try {
    return readdirSync(onHost(dir))
      .filter((name) => matches(name))
      .sort()
      .map((name) => `${dir === '/' ? '' : dir}/${name}`);
  } catch {
    return [];
  }
}

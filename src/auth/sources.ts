import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { defaultJournalIdentifiers, type AuthPolicy } from '../config/sections/auth.js';
import type { StartAt } from '../tail/file-follower.js';
import { positionFile as sourcePositionFile, type SourceIdentity } from '../tail/followed-sources.js';

export type AuthSourceSpec =
  | { readonly type: 'file'; readonly id: string; readonly path: string; readonly startAt: StartAt; readonly configured: boolean }
  | {
      readonly type: 'journald';
      readonly id: string;
      readonly path: string | undefined;
      readonly identifiers: readonly string[];
      readonly startAt: StartAt;
      readonly configured: boolean;
    };

/** Where the auth log is on Debian/Ubuntu and on the RHEL family. */
export const defaultAuthLogs = ['/var/log/auth.log', '/var/log/secure'] as const;
const journalDirs = ['/var/log/journal', '/run/log/journal'];

/** What the host offers, asked once per resolution; replaceable in tests of the pure choice below. */
export interface HostProbe {
  fileExists(path: string): boolean;
  journalAvailable(): boolean;
}

export function hostProbe(rootfs: string): HostProbe {
  return {
    fileExists: (path) => isFile(join(rootfs, path)),
    journalAvailable: () => onPath('journalctl') && journalDirs.some((d) => hasJournalFiles(join(rootfs, d))),
  };
}

/**
 * The sources to read: the policy's, or when it names none, every default auth log that exists;
 * with none of those, the journal when journalctl and journal files exist. Paths are host paths
 * (under --path.rootfs); the label `source` is the path as the policy or the default names it.
 */
export function resolveSources(policy: AuthPolicy, rootfs: string, probe: HostProbe): AuthSourceSpec[] {
  if (policy.sources !== undefined) {
    return policy.sources.map((s) =>
      s.type === 'file'
        ? { type: 'file', id: s.path!, path: join(rootfs, s.path!), startAt: s.start_at, configured: true }
        : {
            type: 'journald',
            id: s.path === undefined ? 'journald' : `journald:${s.path}`,
            path: s.path === undefined ? undefined : join(rootfs, s.path),
            identifiers: s.identifiers ?? defaultJournalIdentifiers,
            startAt: s.start_at,
            configured: true,
          },
    );
  }
  const files = defaultAuthLogs.filter((p) => probe.fileExists(p));
  if (files.length > 0) return files.map((p) => ({ type: 'file', id: p, path: join(rootfs, p), startAt: 'end', configured: false }));
  if (probe.journalAvailable())
    return [
      { type: 'journald', id: 'journald', path: undefined, identifiers: defaultJournalIdentifiers, startAt: 'end', configured: false },
    ];
  return [];
}

/** What an auth source is across reloads and restarts: its type and id. */
export function authIdentity(source: AuthSourceSpec): SourceIdentity {
  return { kind: source.type, id: source.id };
}

/** The file under --state.dir that keeps a source's position. */
export function positionFile(stateDir: string, source: AuthSourceSpec): string {
  return sourcePositionFile(join(stateDir, 'auth'), authIdentity(source));
}

/** Whether a source could be read right now, without reading it (for `check`). */
export function probeSource(source: AuthSourceSpec): { ok: true } | { ok: false; health: 'missing' | 'unreadable'; reason: string } {
  if (source.type === 'file') {
    try {
      accessSync(source.path, constants.R_OK);
      if (!statSync(source.path).isFile()) return { ok: false, health: 'unreadable', reason: 'not a regular file' };
      return { ok: true };
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return { ok: false, health: e.code === 'ENOENT' ? 'missing' : 'unreadable', reason: e.code ?? String(error) };
    }
  }
  if (!onPath('journalctl')) return { ok: false, health: 'missing', reason: 'journalctl is not installed' };
  if (source.path !== undefined) {
    try {
      accessSync(source.path, constants.R_OK);
    } catch (error) {
      return { ok: false, health: 'missing', reason: (error as NodeJS.ErrnoException).code ?? String(error) };
    }
  }
  return { ok: true };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).some((dir) => dir !== '' && isFile(join(dir, command)));
}

function hasJournalFiles(dir: string): boolean {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.journal')) return true;
      if (entry.isDirectory() && readdirSync(join(dir, entry.name)).some((n) => n.endsWith('.journal'))) return true;
    }
  } catch {
    // no such directory
  }
  return false;
}

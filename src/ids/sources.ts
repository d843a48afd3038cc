import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { defaultMaxSilenceSeconds, type IdsPolicy, type IdsTool } from '../config/sections/ids.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import type { StartAt } from '../tail/file-follower.js';
import type { FollowHealth } from '../tail/health.js';
import { positionFile, type SourceIdentity } from '../tail/followed-sources.js';

/** A followed IDS output file: `id` is the path as the policy names it (the `source` label), `path` is under --path.rootfs. */
export interface IdsSourceSpec {
  readonly id: string;
  readonly tool: IdsTool;
  readonly path: string;
  readonly startAt: StartAt;
  /** Longest silence (seconds) before the source counts as dead; 0: never. */
  readonly maxSilenceSeconds: number;
}

export function resolveIdsSources(policy: IdsPolicy | undefined, rootfs: string): IdsSourceSpec[] {
  return (policy?.sources ?? []).map((s) => ({
    id: s.path,
    tool: s.type,
    path: join(rootfs, s.path),
    startAt: s.start_at,
    maxSilenceSeconds: s.max_silence ?? defaultMaxSilenceSeconds[s.type],
  }));
}

/** What an IDS output is across reloads and restarts: its tool and path. */
export function idsIdentity(source: IdsSourceSpec): SourceIdentity {
  return { kind: source.tool, id: source.id };
}

/** The file under --state.dir that keeps a source's read position. */
export function idsPositionFile(stateDir: string, source: IdsSourceSpec): string {
  return positionFile(join(stateDir, 'ids'), idsIdentity(source));
}

/** What the file at a source's path looks like now, without reading it: for `check` and for silence. */
export interface FileLook {
  readonly health: FollowHealth;
  readonly reason: string | undefined;
  /** Last modification (ms since the epoch): when the tool last wrote; undefined when not readable. */
  readonly modifiedAt: number | undefined;
}

export function lookAtFile(path: string): FileLook {
  try {
    const s = statSync(path);
    if (!s.isFile()) return { health: 'unreadable', reason: 'not a regular file', modifiedAt: undefined };
    accessSync(path, constants.R_OK);
    return { health: 'ok', reason: undefined, modifiedAt: s.mtimeMs };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const health = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'EACCES' || code === 'EPERM' ? 'unreadable' : 'error';
    return { health, reason: code ?? String(error), modifiedAt: undefined };
  }
}

const lastAlertsSchema = z.record(z.string(), z.number());

/**
 * The time of the newest alert of each source, kept in --state.dir so that a restart does not
 * reset it to "never" (the positions make sure old alerts are not read again to recover it).
 */
export class LastAlertStore {
  private readonly file: string;
  private saved: Record<string, number>;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'ids', 'last-alerts.json');
    this.saved = load(this.file);
  }

  get(sourceId: string): number | undefined {
    return this.saved[sourceId];
  }

  /** Record newer times; written only when something changed. Errors are returned for the caller to log. */
  update(times: ReadonlyMap<string, number>): Error | undefined {
    let changed = false;
    const next = { ...this.saved };
    for (const [id, at] of times) {
      if (next[id] !== undefined && next[id]! >= at) continue;
      next[id] = at;
      changed = true;
    }
    if (!changed) return undefined;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      writeFileAtomic(this.file, JSON.stringify(next) + '\n');
      this.saved = next;
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }
}

function load(file: string): Record<string, number> {
  try {
    const parsed = lastAlertsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

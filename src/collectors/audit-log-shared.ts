import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { ExecEventsPolicy } from '../config/sections/processes.js';
import { AuditLogReader } from '../kaudit/log-reader.js';
import { positionFile } from '../tail/followed-sources.js';
import type { Logger } from '../log/logger.js';
import type { CollectorEnv } from './collector.js';

type User = 'processes' | 'integrity';

interface Shared {
  readonly reader: AuditLogReader;
  readonly users: Set<User>;
  /** The users that asked for a checkpoint since the last one. */
  readonly asked: Set<User>;
}

/**
 * The kernel audit log that processes.exec_events names, followed once per exporter however many
 * collectors read it: the processes collector for execs, the integrity collector for the writers
 * of watched files (who-data). The reader starts with its first user and stops with its last. Its
 * position is saved when every user has asked since the last save, so an event read is never
 * skipped after a restart by a user that has not handled it yet.
 */
export class SharedAuditLog {
  private readonly readers = new Map<string, Shared>();

  constructor(
    /** --state.dir: positions are kept under its `processes` folder. */
    private readonly stateDir: string,
    private readonly log: Logger,
  ) {}

  /** The reader of the log the policy names, for `user`; started when it is the first. */
  use(user: User, policy: ExecEventsPolicy): AuditLogReader {
    let shared = this.readers.get(policy.path);
    if (!shared) {
      const reader = new AuditLogReader({
        path: policy.path,
        // Where the exec source has always kept it: an upgrade continues from the saved position.
        stateFile: positionFile(join(this.stateDir, 'processes'), { kind: 'auditd', id: policy.path }),
        startAt: policy.start_at,
        log: this.log.with({ source: policy.path }),
      });
      shared = { reader, users: new Set(), asked: new Set() };
      this.readers.set(policy.path, shared);
      reader.start();
      this.log.info('following the audit log', { path: policy.path });
    }
    shared.users.add(user);
    return shared.reader;
  }

  /** `user` reads the log at `path` no more; the last one stops it (its position saved when asked). */
  async release(user: User, path: string, options?: { savePosition?: boolean }): Promise<void> {
    const shared = this.readers.get(path);
    if (!shared?.users.delete(user)) return;
    shared.asked.delete(user);
    if (shared.users.size > 0) return;
    this.readers.delete(path);
    await shared.reader.stop(options);
  }

  /** `user` handled every event read so far: the position is saved once all users have. */
  checkpoint(user: User, path: string): void {
    const shared = this.readers.get(path);
    if (!shared?.users.has(user)) return;
    shared.asked.add(user);
    if ([...shared.users].some((u) => !shared.asked.has(u))) return;
    shared.reader.checkpoint();
    shared.asked.clear();
  }
}

const byRegistry = new WeakMap<Registry, SharedAuditLog>();

/** The shared audit log of this exporter (its registry), made by whichever collector asks first. */
export function sharedAuditLog(env: CollectorEnv): SharedAuditLog {
  let shared = byRegistry.get(env.registry);
  if (!shared) {
    shared = new SharedAuditLog(env.paths.stateDir, env.log);
    byRegistry.set(env.registry, shared);
  }
  return shared;
}

import { loadPolicy, PolicyError, type LoadedPolicy } from './load-policy.js';

export type ReloadOutcome = { ok: true; changed: boolean } | { ok: false; error: PolicyError };

/**
 * The policy in force. A reload that fails keeps the running policy (Prometheus' own behaviour)
 * and is remembered, so hostguard_config_last_reload_successful can say so.
 */
export class PolicyStore {
  private loaded: LoadedPolicy;
  private lastOk = true;
  private lastSuccessAt: Date;
  private readonly listeners: Array<(policy: LoadedPolicy) => void> = [];

  constructor(
    private readonly file: string | undefined,
    initial: LoadedPolicy = loadPolicy(file),
  ) {
    this.loaded = initial;
    this.lastSuccessAt = new Date();
  }

  get current(): LoadedPolicy {
    return this.loaded;
  }

  get lastReloadSuccessful(): boolean {
    return this.lastOk;
  }

  get lastSuccessfulLoad(): Date {
    return this.lastSuccessAt;
  }

  onChange(listener: (policy: LoadedPolicy) => void): void {
    this.listeners.push(listener);
  }

  reload(): ReloadOutcome {
    let next: LoadedPolicy;
    try {
      next = loadPolicy(this.file);
    } catch (error) {
      this.lastOk = false;
      if (error instanceof PolicyError) return { ok: false, error };
      throw error;
    }
    this.lastOk = true;
    this.lastSuccessAt = new Date();
    const changed = next.sha256 !== this.loaded.sha256;
    this.loaded = next;
    if (changed) for (const listener of this.listeners) listener(next);
    return { ok: true, changed };
  }
}

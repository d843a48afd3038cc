import { loadPolicy, type LoadedPolicy } from './load-policy.js';
import { PolicyError } from './policy-error.js';

export type ReloadOutcome = { ok: true; changed: boolean } | { ok: false; message: string };

/** Told of every policy that took effect; throws when it could not apply it. */
export type PolicyListener = (policy: LoadedPolicy) => void;

/**
 * The policy in force. A reload that fails keeps the running policy (Prometheus' own behaviour)
 * and is remembered, so hostguard_config_last_reload_successful can say so.
 */
export class PolicyStore {
  private loaded: LoadedPolicy;
  private lastOk = true;
  private lastSuccessAt: Date;
  /** A listener failed on the policy in force: the next reload tells every listener again, changed or not. */
  private listenersBehind = false;
  private readonly listeners: PolicyListener[] = [];

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

  onChange(listener: PolicyListener): void {
    this.listeners.push(listener);
  }

  /**
   * Never throws: it runs inside the SIGHUP handler, where an exception would end the process. A
   * policy some listener cannot apply is refused like an invalid one: everyone goes back to the
   * running policy, so no collector is left on a different one.
   */
  reload(): ReloadOutcome {
    let next: LoadedPolicy;
    try {
      next = loadPolicy(this.file);
    } catch (error) {
      this.lastOk = false;
      return { ok: false, message: error instanceof PolicyError ? error.message : `cannot load the policy: ${messageOf(error)}` };
    }
    const changed = next.sha256 !== this.loaded.sha256;
    if (changed || this.listenersBehind) {
      const running = this.loaded;
      const problems = this.apply(next);
      if (problems.length > 0) {
        this.apply(running);
        this.lastOk = false;
        return { ok: false, message: problems.join('; ') };
      }
    }
    this.lastOk = true;
    this.lastSuccessAt = new Date();
    return { ok: true, changed };
  }

  private apply(policy: LoadedPolicy): string[] {
    this.loaded = policy;
    const problems = this.tellListeners(policy);
    this.listenersBehind = problems.length > 0;
    return problems;
  }

  /** Every listener is told, even after one failed; what failed comes back as messages. */
  private tellListeners(policy: LoadedPolicy): string[] {
    const problems: string[] = [];
    for (const listener of this.listeners) {
      try {
        listener(policy);
      } catch (error) {
        problems.push(messageOf(error));
      }
    }
    return problems;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

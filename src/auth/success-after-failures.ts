import type { UserClass } from '../procfs/users.js';
import type { AuthService } from './patterns.js';

export interface SuccessAfterFailuresPolicy {
  /** Failures of the address, or for the user, within the window before a success; 0 turns the judgment off. */
  readonly failures: number;
  readonly windowMs: number;
}

/** A login preceded by enough failures from its address, or for its user, to look guessed. */
export interface GuessedLogin {
  readonly service: AuthService;
  readonly user: string | undefined;
  readonly userClass: UserClass;
  readonly address: string | undefined;
  /** What the failures had in common with the login. */
  readonly by: 'address' | 'user';
  /** Failures within the window before the login: the policy's number (only the last so many are kept), so "at least". */
  readonly failures: number;
  /** When the login was logged (the line's timestamp, or when it was read). */
  readonly at: number;
}

/** Keys per generation: at most twice as many are remembered. */
const generationSize = 8192;

/**
 * Failure times per key, in two generations: a key is looked up in both, and when the current one
 * is full it becomes the old one and the old one is dropped. Forgetting is O(1) and the keys
 * failing lately survive; memory is bounded whatever attackers choose as addresses and names. Keys
 * are 53-bit hashes of the text, never slices of a log line, which would keep the whole chunk they
 * were cut from alive.
 */
class FailureTimes {
  private current = new Map<number, number[]>();
  private previous = new Map<number, number[]>();

  add(key: number, attempts: number, at: number, keep: number): void {
    let times = this.current.get(key);
    if (times === undefined) {
      times = this.previous.get(key) ?? [];
      if (this.current.size >= generationSize) {
        this.previous = this.current;
        this.current = new Map();
      }
      this.current.set(key, times);
    }
    for (let i = 0; i < attempts && i < keep; i++) times.push(at);
    if (times.length > keep) times.splice(0, times.length - keep);
  }

  get(key: number): number[] | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  delete(key: number): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }
}

/**
 * The "brute force that worked" judgment: remembers, per source address and per (service, user),
 * when the last N failures were logged, and on a login asks whether N of them fall within the
 * window before it. A login clears its user's failures (a person who mistyped twice starts
 * afresh); an address's failures are cleared only by the login they are reported with, so a
 * guesser cannot reset them with a login of its own. Failures for user names that have no account
 * on the host are not kept for sshd, su, sudo, login and PAM: those cannot log in.
 */
export class FailureHistory {
  private readonly byAddress = new FailureTimes();
  private readonly byUser = new FailureTimes();

  constructor(private policy: SuccessAfterFailuresPolicy) {}

  get enabled(): boolean {
    return this.policy.failures > 0;
  }

  configure(policy: SuccessAfterFailuresPolicy): void {
    if (policy.failures !== this.policy.failures) {
      this.byAddress.clear();
      this.byUser.clear();
    }
    this.policy = policy;
  }

  failed(service: AuthService, user: string | undefined, userClass: UserClass, address: string | undefined, attempts: number, at: number): void {
    if (address !== undefined) this.byAddress.add(hash53(address, 0), attempts, at, this.policy.failures);
    if (user !== undefined && (userClass !== 'invalid' || !systemAccounts.has(service))) this.byUser.add(hash53(user, serviceSeed(service)), attempts, at, this.policy.failures);
  }

  /** A login: the guessed login it is, if enough failures came before it. */
  succeeded(service: AuthService, user: string | undefined, userClass: UserClass, address: string | undefined, at: number): GuessedLogin | undefined {
    const userKey = user === undefined ? undefined : hash53(user, serviceSeed(service));
    const addressKey = address === undefined ? undefined : hash53(address, 0);
    const fromAddress = addressKey === undefined ? 0 : this.within(this.byAddress.get(addressKey), at);
    const forUser = userKey === undefined ? 0 : this.within(this.byUser.get(userKey), at);
    if (userKey !== undefined) this.byUser.delete(userKey);
    const n = this.policy.failures;
    if (fromAddress < n && forUser < n) return undefined;
    if (addressKey !== undefined) this.byAddress.delete(addressKey);
    const by = fromAddress >= n ? 'address' : 'user';
    return { service, user, userClass, address, by, failures: by === 'address' ? fromAddress : forUser, at };
  }

  private within(times: number[] | undefined, at: number): number {
    if (!times) return 0;
    const from = at - this.policy.windowMs;
    let n = 0;
    for (const t of times) if (t >= from && t <= at) n++;
    return n;
  }
}

/** Services that log in accounts of the host (passwd): a user name without one cannot succeed there. */
const systemAccounts: ReadonlySet<AuthService> = new Set(['sshd', 'su', 'sudo', 'login', 'other']);

const seeds = new Map<AuthService, number>();
function serviceSeed(service: AuthService): number {
  let seed = seeds.get(service);
  if (seed === undefined) seeds.set(service, (seed = hash53(service, 1)));
  return seed;
}

/** cyrb53: a 53-bit hash of `text` (collisions among a few thousand keys are out of reach). */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A flat copy of a string that may be a slice of a much larger one. */
export function detach(text: string): string {
  return (' ' + text).slice(1);
}

import type { UserClass } from '../rootfs/users.js';
import type { AuthService } from './patterns.js';

export interface SuccessAfterFailuresPolicy {
  /** Failures of the address, or for the user, within the window before a success; 0 turns the judgment off. At most 32 (the policy schema's bound): so many times are kept per key. */
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

/** Slots per table; a table is retired when half full, so at least 8,192 keys are remembered. */
const slots = 16_384;
/**
 * Failure times per key in two open-addressing tables of typed arrays (no allocation per
 * failure: this runs for every failed attempt, at a million lines a second). A key is looked up in
 * both; when the current table is half full it becomes the old one and the old one is emptied.
 * Forgetting is O(1) and the keys failing lately survive; memory is fixed whatever attackers
 * choose as addresses and names. Keys are 53-bit hashes of the text, never slices of a log line.
 */
class FailureTimes {
  private current: Table;
  private previous: Table;

  constructor(private readonly keep: number) {
    this.current = new Table(keep);
    this.previous = new Table(keep);
  }

  add(key: number, attempts: number, at: number): void {
    let slot = this.current.find(key);
    if (slot < 0) {
      if (this.current.used >= slots / 2) {
        const emptied = this.previous;
        this.previous = this.current;
        this.current = emptied;
        this.current.clear();
      }
      slot = this.current.insert(key);
      const old = this.previous.find(key);
      if (old >= 0) this.current.copyTimes(slot, this.previous, old);
    }
    for (let i = 0; i < attempts && i < this.keep; i++) this.current.push(slot, at);
  }

  /** Failures of `key` within [from, to]. */
  within(key: number, from: number, to: number): number {
    const slot = this.current.find(key);
    if (slot >= 0) return this.current.within(slot, from, to);
    const old = this.previous.find(key);
    return old >= 0 ? this.previous.within(old, from, to) : 0;
  }

  delete(key: number): void {
    this.current.forget(key);
    this.previous.forget(key);
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }
}

class Table {
  /** High 21 bits of the key plus one (0: an empty slot), and its low 32 bits. */
  private readonly high = new Uint32Array(slots);
  private readonly low = new Uint32Array(slots);
  /** Times kept per slot, and where the next one goes (a ring of `keep`). */
  private readonly count = new Uint8Array(slots);
  private readonly next = new Uint8Array(slots);
  private readonly times: Float64Array;
  used = 0;

  constructor(private readonly keep: number) {
    this.times = new Float64Array(slots * keep);
  }

  find(key: number): number {
    const hi = Math.floor(key / 4294967296) + 1;
    const lo = key >>> 0;
    for (let i = lo & (slots - 1); ; i = (i + 1) & (slots - 1)) {
      const h = this.high[i]!;
      if (h === 0) return -1;
      if (h === hi && this.low[i] === lo) return i;
    }
  }

  insert(key: number): number {
    const hi = Math.floor(key / 4294967296) + 1;
    const lo = key >>> 0;
    let i = lo & (slots - 1);
    while (this.high[i] !== 0) i = (i + 1) & (slots - 1);
    this.high[i] = hi;
    this.low[i] = lo;
    this.count[i] = 0;
    this.next[i] = 0;
    this.used++;
    return i;
  }

  push(slot: number, at: number): void {
    this.times[slot * this.keep + this.next[slot]!] = at;
    this.next[slot] = (this.next[slot]! + 1) % this.keep;
    if (this.count[slot]! < this.keep) this.count[slot]!++;
  }

  within(slot: number, from: number, to: number): number {
    let n = 0;
    const base = slot * this.keep;
    for (let i = 0; i < this.count[slot]!; i++) {
      const t = this.times[base + i]!;
      if (t >= from && t <= to) n++;
    }
    return n;
  }

  copyTimes(slot: number, from: Table, fromSlot: number): void {
    this.times.set(from.times.subarray(fromSlot * this.keep, (fromSlot + 1) * this.keep), slot * this.keep);
    this.count[slot] = from.count[fromSlot]!;
    this.next[slot] = from.next[fromSlot]!;
  }

  /** The key stays, so probing past it still works; with no times it counts as never failed. */
  forget(key: number): void {
    const slot = this.find(key);
    if (slot >= 0) this.count[slot] = 0;
  }

  clear(): void {
    this.high.fill(0);
    this.used = 0;
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
  private byAddress: FailureTimes;
  private byUser: FailureTimes;

  constructor(private policy: SuccessAfterFailuresPolicy) {
    this.byAddress = new FailureTimes(Math.max(1, policy.failures));
    this.byUser = new FailureTimes(Math.max(1, policy.failures));
  }

  get enabled(): boolean {
    return this.policy.failures > 0;
  }

  configure(policy: SuccessAfterFailuresPolicy): void {
    if (policy.failures !== this.policy.failures) {
      this.byAddress = new FailureTimes(Math.max(1, policy.failures));
      this.byUser = new FailureTimes(Math.max(1, policy.failures));
    }
    this.policy = policy;
  }

  failed(
    service: AuthService,
    user: string | undefined,
    userClass: UserClass,
    address: string | undefined,
    attempts: number,
    at: number,
  ): void {
    if (address !== undefined) this.byAddress.add(hash53(address, 0), attempts, at);
    if (user !== undefined && (userClass !== 'invalid' || !systemAccounts.has(service)))
      this.byUser.add(hash53(user, serviceSeed(service)), attempts, at);
  }

  /** A login: the guessed login it is, if enough failures came before it. */
  succeeded(
    service: AuthService,
    user: string | undefined,
    userClass: UserClass,
    address: string | undefined,
    at: number,
  ): GuessedLogin | undefined {
    const userKey = user === undefined ? undefined : hash53(user, serviceSeed(service));
    const addressKey = address === undefined ? undefined : hash53(address, 0);
    const from = at - this.policy.windowMs;
    const fromAddress = addressKey === undefined ? 0 : this.byAddress.within(addressKey, from, at);
    const forUser = userKey === undefined ? 0 : this.byUser.within(userKey, from, at);
    if (userKey !== undefined) this.byUser.delete(userKey);
    const n = this.policy.failures;
    if (fromAddress < n && forUser < n) return undefined;
    if (addressKey !== undefined) this.byAddress.delete(addressKey);
    const by = fromAddress >= n ? 'address' : 'user';
    return { service, user, userClass, address, by, failures: by === 'address' ? fromAddress : forUser, at };
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

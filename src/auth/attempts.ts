import type { Classification } from './classify.js';

interface Connection {
  /** Attempts counted for this connection so far. */
  counted: number;
  /** Attempts counted by lines that come before the attempt lines of the same attempts: so many attempt lines to come are not new. */
  credits: number;
}

/**
 * Turns classified lines into attempts, per connection (a pid, within one source), following each
 * pattern's role (see AttemptRole in patterns.ts). Memory is bounded: the oldest connections are
 * forgotten first, and a connection ends with its disconnect or success line.
 */
export class AttemptTracker {
  /** By pid as a number (a small integer hashes faster than a fresh string), or as written when it is not one. */
  private readonly connections = new Map<number | string, Connection>();

  constructor(private readonly maxConnections = 8192) {}

  get size(): number {
    return this.connections.size;
  }

  /** Attempts this line adds. `connection` is undefined when the line names no pid: nothing is paired then. */
  attempts(pid: string | undefined, c: Classification): number {
    const lines = c.repeat;
    const connection = pid === undefined ? undefined : keyOf(pid);
    switch (c.role) {
      case 'echo':
        return 0;
      case 'single':
        return lines;
      case 'ends':
        if (connection !== undefined) this.connections.delete(connection);
        return 0;
      case 'closes': {
        if (connection === undefined) return 0;
        const state = this.connections.get(connection);
        this.connections.delete(connection);
        return state && state.counted > 0 ? 0 : 1;
      }
      case 'once': {
        if (connection === undefined) return 1;
        const state = this.connection(connection);
        if (state.counted > 0) return 0;
        state.counted = 1;
        return 1;
      }
      case 'opens': {
        if (connection === undefined) return lines;
        const state = this.connection(connection);
        state.credits += lines;
        state.counted += lines;
        return lines;
      }
      case 'prefaces': {
        if (connection === undefined) return lines;
        const state = this.connection(connection);
        const attempts = state.credits > 0 ? lines - 1 : lines;
        state.credits = Math.max(state.credits, 1);
        state.counted += attempts;
        return attempts;
      }
      case 'attempt': {
        let attempts = c.count * lines;
        if (connection === undefined) return attempts;
        const state = this.connection(connection);
        const credited = Math.min(state.credits, attempts);
        state.credits -= credited;
        attempts -= credited;
        state.counted += attempts;
        return attempts;
      }
    }
  }

  private connection(key: number | string): Connection {
    let state = this.connections.get(key);
    if (!state) {
      if (this.connections.size >= this.maxConnections) {
        const oldest = this.connections.keys().next().value;
        if (oldest !== undefined) this.connections.delete(oldest);
      }
      state = { counted: 0, credits: 0 };
      this.connections.set(key, state);
    }
    return state;
  }
}

/** A pid of up to 9 digits, without a leading zero, as its number; anything else as written. */
function keyOf(pid: string): number | string {
  const length = pid.length;
  if (length === 0 || length > 9 || (length > 1 && pid.charCodeAt(0) === 48)) return pid;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const digit = pid.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return pid;
    n = n * 10 + digit;
  }
  return n;
}

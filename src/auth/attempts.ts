import type { Classification } from './classify.js';

interface Connection {
  /** Attempts counted for this connection so far. */
  counted: number;
  /** A rejection was counted: the next attempt line is the same attempt. */
  credit: boolean;
}

/**
 * Turns classified lines into attempts, per connection (a pid, within one source), following each
 * pattern's role (see AttemptRole in patterns.ts). Memory is bounded: the oldest connections are
 * forgotten first, and a connection ends with its disconnect or success line.
 */
export class AttemptTracker {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly maxConnections = 8192) {}

  get size(): number {
    return this.connections.size;
  }

  /** Attempts this line adds. `connection` is undefined when the line names no pid: nothing is paired then. */
  attempts(connection: string | undefined, c: Classification): number {
    const lines = c.repeat;
    switch (c.role) {
      case 'echo':
        return 0;
      case 'ends':
        if (connection !== undefined) this.connections.delete(connection);
        return 0;
      case 'closes': {
        if (connection === undefined) return 0;
        const state = this.connections.get(connection);
        this.connections.delete(connection);
        return state && state.counted > 0 ? 0 : 1;
      }
      case 'opens': {
        if (connection === undefined) return lines;
        const state = this.connection(connection);
        state.credit = true;
        state.counted += lines;
        return lines;
      }
      case 'attempt': {
        let attempts = c.count * lines;
        if (connection === undefined) return attempts;
        const state = this.connection(connection);
        if (state.credit) {
          state.credit = false;
          attempts -= 1;
        }
        state.counted += attempts;
        return attempts;
      }
    }
  }

  private connection(key: string): Connection {
    let state = this.connections.get(key);
    if (!state) {
      if (this.connections.size >= this.maxConnections) {
        const oldest = this.connections.keys().next().value;
        if (oldest !== undefined) this.connections.delete(oldest);
      }
      state = { counted: 0, credit: false };
      this.connections.set(key, state);
    }
    return state;
  }
}

import { eventually } from './eventually.js';

/**
 * `eventually` for a look and a test of what it saw: look again until `ready` holds, with a
 * generous deadline; on timeout the error shows the last value seen.
 */
export async function until<T>(what: string, look: () => Promise<T>, ready: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  let last: T | undefined;
  try {
    const seen = await eventually(
      async () => {
        last = await look();
        return ready(last) ? { value: last } : false;
      },
      { timeoutMs, what },
    );
    return seen.value;
  } catch (error) {
    throw new Error(`${(error as Error).message}; last value: ${JSON.stringify(last)?.slice(0, 3000)}`);
  }
}

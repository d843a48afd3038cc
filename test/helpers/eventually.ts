// Taken at import: a test that puts the code under test on fake timers still waits in real time.
const realSetTimeout = globalThis.setTimeout;

/**
 * Waiting for a real process, file or server to reach a state: poll until `check` holds, with a
 * deadline generous enough for a loaded 2-core machine. Never a fixed sleep standing for "long
 * enough": a fast machine passes at once, a slow one waits longer, and only a state that never
 * comes fails.
 *
 * `check` holds when it returns anything but false/undefined/null and does not throw; its value is
 * returned. On timeout the error names `what` and the last value or error seen.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Exclude<T, false | undefined | null>> {
  const { timeoutMs = 30_000, intervalMs = 50, what = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | undefined | null>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`${what} did not hold within ${timeoutMs} ms (last: ${seen})`);
    }
    await new Promise((resolve) => realSetTimeout(resolve, intervalMs));
  }
}

/** `eventually` for assertions: poll until `assertions` stop throwing (the last failure is the error). */
export async function eventuallyExpect(
  assertions: () => void | Promise<void>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  await eventually(
    async () => {
      await assertions();
      return true;
    },
    { ...options, what: 'the expectation' },
  );
}

/** Look again until `ready` holds, with a generous deadline: the figure of how long belongs in bench/, not here. */
export async function until<T>(what: string, look: () => Promise<T>, ready: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await look();
    if (ready(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last: ${JSON.stringify(value).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

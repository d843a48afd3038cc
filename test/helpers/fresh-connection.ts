/**
 * Every fetch a test makes goes on a connection of its own (`Connection: close`). Node's fetch keeps
 * connections alive, and the exporter (Node's http server) closes one that has been idle for 5 s: a
 * test paused longer than that (a spawnSync of the CLI, a loaded machine) would send its next
 * request on a connection the server is closing and read "other side closed". Prometheus' HTTP
 * client retries such a request by itself; fetch does not. (vitest setupFiles: runs in every test file.)
 */
const keepAliveFetch = globalThis.fetch;

globalThis.fetch = (input: Parameters<typeof fetch>[0], init: RequestInit = {}): Promise<Response> => {
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has('connection')) headers.set('connection', 'close');
  return keepAliveFetch(input, { ...init, headers });
};

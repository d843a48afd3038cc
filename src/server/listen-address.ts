import { isIP } from 'node:net';

export interface ListenAddress {
  /** undefined means every interface, as Go's ":port" does. */
  readonly host: string | undefined;
  readonly port: number;
}

export class ListenAddressError extends Error {}

/** Parse node_exporter's --web.listen-address forms: ":10177", "127.0.0.1:10177", "[::1]:10177", "localhost:10177". */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new ListenAddressError(`invalid listen address "${text}": expected [host]:port, e.g. ":10177" or "127.0.0.1:10177"`);
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65535) throw new ListenAddressError(`invalid listen address "${text}": port ${port} is above 65535`);
  if (match[1] !== undefined && isIP(host) !== 6)
    throw new ListenAddressError(`invalid listen address "${text}": [${host}] is not an IPv6 address`);
  return { host: host === '' ? undefined : host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  const host = address.host === undefined ? '' : isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

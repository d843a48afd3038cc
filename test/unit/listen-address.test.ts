import { describe, expect, it } from 'vitest';
import { formatListenAddress, parseListenAddress } from '../../src/server/listen-address.js';

describe('--web.listen-address', () => {
  it.each([
    [':10177', { host: undefined, port: 10177 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9100', { host: '::1', port: 9100 }],
    ['localhost:8080', { host: 'localhost', port: 8080 }],
  ])('parses %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
    expect(formatListenAddress(parseListenAddress(text))).toBe(text);
  });

  it.each(['10177', '127.0.0.1', ':70000', '[localhost]:1', 'a:b'])('rejects %s with the expected form', (text) => {
    expect(() => parseListenAddress(text)).toThrow(/invalid listen address/);
  });
});

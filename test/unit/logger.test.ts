import { describe, expect, it } from 'vitest';
import { createLogger, toLogfmt } from '../../src/log/logger.js';

const fixedNow = () => new Date('2026-01-02T03:04:05.000Z');

describe('logger', () => {
  it('writes logfmt with time, level and message first, quoting values that need it', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', format: 'logfmt', write: (l) => lines.push(l), now: fixedNow });
    log.info('policy loaded', { file: '/etc/hostguard/policy.yml', note: 'two words', empty: '' });
    expect(lines).toEqual([
      'time=2026-01-02T03:04:05.000Z level=info msg="policy loaded" file=/etc/hostguard/policy.yml note="two words" empty=""',
    ]);
  });

  it('escapes newlines and quotes so one record stays one line', () => {
    expect(toLogfmt({ msg: 'a\nb "c"' })).toBe('msg="a\\nb \\"c\\""');
  });

  it('writes JSON when asked, with bound fields and errors as messages', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l), now: fixedNow }).with({ collector: 'auth' });
    log.error('tail failed', { err: new Error('EACCES') });
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '2026-01-02T03:04:05.000Z',
      level: 'error',
      msg: 'tail failed',
      collector: 'auth',
      err: 'EACCES',
    });
  });

  it('drops messages below the configured level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', format: 'logfmt', write: (l) => lines.push(l), now: fixedNow });
    log.debug('x');
    log.info('y');
    log.warn('z');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('msg=z');
  });
});

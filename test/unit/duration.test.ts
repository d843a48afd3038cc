import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/config/duration.js';
import { durationSeconds } from '../../src/config/duration-field.js';

describe('durations', () => {
  it('reads a whole number and one of the allowed units, in milliseconds', () => {
    expect(parseDurationMs('500ms', ['ms', 's'])).toBe(500);
    expect(parseDurationMs('30s', ['s'])).toBe(30_000);
    expect(parseDurationMs('1d', ['s', 'm', 'h', 'd'])).toBe(86_400_000);
    expect(parseDurationMs('1d', ['ms', 's', 'm', 'h'])).toBeUndefined();
    expect(parseDurationMs('1.5s', ['s'])).toBeUndefined();
    expect(parseDurationMs('30', ['s'])).toBeUndefined();
  });

  it('gives the policy seconds, and refuses zero and other units with the policy words', () => {
    expect(durationSeconds.parse('6h')).toBe(21_600);
    expect(durationSeconds.safeParse('0s').error?.issues[0]?.message).toBe('must be longer than 0');
    expect(durationSeconds.safeParse('500ms').error?.issues[0]?.message).toBe('a duration like 30m, 6h or 1d');
  });
});

import { describe, expect, it } from 'vitest';
import { compileGlob, firstMatch, globError } from '../../src/match/glob.js';

describe('path globs', () => {
  it.each([
    ['/usr/sbin/sshd', '/usr/sbin/sshd', true],
    ['/usr/sbin/sshd', '/usr/sbin/sshd2', false],
    ['/usr/bin/*', '/usr/bin/python3', true],
    ['/usr/bin/*', '/usr/bin/x/y', false],
    ['/opt/**', '/opt/app/bin/server', true],
    ['/usr/**/bin', '/usr/bin', true],
    ['/usr/**/bin', '/usr/local/bin', true],
    ['/usr/bin/python3.?', '/usr/bin/python3.11', false],
    ['/usr/bin/python3.??', '/usr/bin/python3.11', true],
    ['/usr/lib/jvm/*/bin/java', '/usr/lib/jvm/java-17/bin/java', true],
    ['/srv/app-[0-9]', '/srv/app-7', true],
    ['/srv/app-[!0-9]', '/srv/app-7', false],
    ['/tmp/a.b', '/tmp/aXb', false],
    ['/tmp/(x)+', '/tmp/(x)+', true],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(compileGlob(pattern)(path)).toBe(expected);
  });

  it('says why a glob cannot be compiled, and nothing for one that can', () => {
    expect(globError('/opt/app[z-a]/*')).toBe('"/opt/app[z-a]/*" is not a valid glob (Range out of order in character class)');
    expect(globError('/srv/app-[0-9]/**')).toBeUndefined();
    expect(globError('/tmp/[unclosed')).toBeUndefined();
  });

  it('finds the first matching rule', () => {
    const matchers = ['/usr/bin/*', '/usr/**'].map(compileGlob);
    expect(firstMatch(matchers, '/usr/bin/ls')).toBe(0);
    expect(firstMatch(matchers, '/usr/lib/x')).toBe(1);
    expect(firstMatch(matchers, '/tmp/x')).toBe(-1);
  });
});

describe('globs and hostile file names', () => {
  it('a newline in a file name does not take it out of /tmp/** or /opt/**/bin', () => {
    expect(compileGlob('/tmp/**')('/tmp/x/new\nline')).toBe(true);
    expect(compileGlob('/opt/**/bin/*')('/opt/a\nb/bin/c')).toBe(true);
    expect(compileGlob('/tmp/*')('/tmp/new\nline')).toBe(true);
  });
});

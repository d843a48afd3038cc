import fc from 'fast-check';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { baselineFormat, sealBaseline, verifyBaseline } from '../../src/baseline/baseline.js';
import { parsePolicy } from '../../src/config/load-policy.js';
import { PolicyError } from '../../src/config/policy-error.js';
import { ProcParseError } from '../../src/procfs/errors.js';
import { parseStat } from '../../src/procfs/stat.js';
import { parseStatm } from '../../src/procfs/statm.js';
import { parseStatus } from '../../src/procfs/status.js';
import { parsePasswd } from '../../src/rootfs/users.js';
import { ListenAddressError, parseListenAddress } from '../../src/server/listen-address.js';
import { parseWebConfig } from '../../src/server/web-config.js';
import { WebConfigError } from '../../src/server/web-config-error.js';

/**
 * Property tests on every parser of untrusted text in the foundation: whatever the input, the
 * result is a value or the parser's own typed error carrying its context — never another
 * exception, never a hang.
 */
const runs = { numRuns: 2000 };

function onlyThrows<E extends Error>(fn: () => unknown, type: new (...args: never[]) => E): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof type)) throw error;
  }
}

const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
);

// Thousands of parses per test: seconds on a quiet machine (the policy's 6,000 about 15 s), a few
// times that on a loaded one. The deadline only has to catch a hang.
describe('hostile input to the parsers', { timeout: 300_000 }, () => {
  it('/proc/PID/stat: any text parses or raises a located ProcParseError', () => {
    fc.assert(
      fc.property(text, (t) => onlyThrows(() => parseStat(t, '/proc/1/stat'), ProcParseError)),
      runs,
    );
  });

  it('/proc/PID/stat: a comm with parentheses, spaces and newlines is read back exactly', () => {
    const comm = fc.string({ unit: 'binary', maxLength: 15 });
    fc.assert(
      fc.property(comm, fc.integer({ min: 1, max: 4194304 }), (c, pid) => {
        const stat = parseStat(`${pid} (${c}) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 1 0 99 100 5 18446744073709551615`);
        expect([stat.pid, stat.comm, stat.utimeTicks, stat.startTicks]).toEqual([pid, c, 7, 99]);
      }),
      runs,
    );
  });

  it('/proc/PID/statm: any text parses or raises ProcParseError', () => {
    fc.assert(
      fc.property(text, (t) => onlyThrows(() => parseStatm(t, '/proc/1/statm'), ProcParseError)),
      runs,
    );
  });

  it('/proc/PID/status: any text parses or raises ProcParseError', () => {
    fc.assert(
      fc.property(text, (t) => onlyThrows(() => parseStatus(t, '/proc/1/status'), ProcParseError)),
      runs,
    );
  });

  it('/etc/passwd: any text yields a list of accounts and never throws', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(Array.isArray(parsePasswd(t))).toBe(true);
      }),
      runs,
    );
  });

  it('policy YAML: any text or any YAML structure loads or raises a PolicyError naming the file', () => {
    const check = (t: string) => {
      try {
        parsePolicy(t, 'fuzz.yml');
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        expect(error.message.startsWith('fuzz.yml')).toBe(true);
      }
    };
    fc.assert(fc.property(text, check), runs);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => check(dump(v))),
      runs,
    );
    const sections = fc.record(
      { processes: fc.jsonValue({ maxDepth: 3 }), listeners: fc.jsonValue({ maxDepth: 3 }), integrity: fc.jsonValue({ maxDepth: 3 }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(sections, (v) => check(dump(v))),
      runs,
    );
  });

  it('web config YAML: any text or structure loads or raises a WebConfigError naming the file', () => {
    const check = (t: string) => {
      try {
        parseWebConfig(t, '/nonexistent/web.yml');
      } catch (error) {
        if (!(error instanceof WebConfigError)) throw error;
        expect(error.message.startsWith('/nonexistent/web.yml: ')).toBe(true);
      }
    };
    fc.assert(fc.property(text, check), runs);
    const shaped = fc.record(
      {
        tls_server_config: fc.jsonValue({ maxDepth: 2 }),
        basic_auth_users: fc.dictionary(fc.string(), fc.string()),
        http_server_config: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(shaped, (v) => check(dump(v))),
      runs,
    );
  });

  it('baseline files: any text is a verdict, never an exception; any edit of a sealed file is never verified', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(['verified', 'tampered', 'corrupt']).toContain(verifyBaseline(t).status);
      }),
      runs,
    );
    const body = {
      format: baselineFormat,
      hostname: 'h',
      created_at: 'c',
      updated_at: 'u',
      origin: 'operator' as const,
      sections: { processes: { '/usr/sbin/sshd': { users: ['root'] }, '/usr/sbin/cron': { users: ['root'] } } },
    };
    const sealed = JSON.stringify(sealBaseline(body));
    fc.assert(
      fc.property(fc.nat(sealed.length - 1), fc.string({ minLength: 1, maxLength: 3 }), (at, insert) => {
        const edited = sealed.slice(0, at) + insert + sealed.slice(at + 1);
        const verdict = verifyBaseline(edited);
        if (verdict.status === 'verified') expect(verdict.body).toEqual(body); // only a no-op edit can verify
      }),
      runs,
    );
  });

  it('listen addresses: any text parses or raises ListenAddressError', () => {
    fc.assert(
      fc.property(text, (t) => onlyThrows(() => parseListenAddress(t), ListenAddressError)),
      runs,
    );
  });
});

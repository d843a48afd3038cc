import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/finding.js';
import { presentFindings, redactFinding } from '../../src/findings/redact.js';

const outbound: Finding = {
  collector: 'network',
  kind: 'unexpected_outbound',
  severity: 'warning',
  subject: { protocol: 'tcp', exe: '/tmp/x', user: 'alice', remote_address: '203.0.113.7', remote_port: 443 },
  message: '/tmp/x (pid 42) is connected to tcp 203.0.113.7:443, which no outbound rule allows',
};
const process: Finding = {
  collector: 'processes',
  kind: 'unexpected_user',
  severity: 'warning',
  subject: { exe: '/usr/sbin/nginx', user: 'root' },
  message: 'runs as root; allow rule 1 allows only www-data (rootkit check unaffected)',
};

describe('findings shown over HTTP and by check', () => {
  it('hide user names and remote addresses, in the subject and in the message', () => {
    expect(redactFinding(outbound)).toEqual({
      ...outbound,
      subject: { ...outbound.subject, user: '[redacted]', remote_address: '[redacted]' },
      message: '/tmp/x (pid 42) is connected to tcp [redacted]:443, which no outbound rule allows',
    });
    expect(redactFinding(process).message).toBe('runs as [redacted]; allow rule 1 allows only www-data (rootkit check unaffected)');
  });

  it('keep everything else, and everything when the operator opts in', () => {
    const integrity: Finding = {
      collector: 'integrity',
      kind: 'added',
      severity: 'warning',
      subject: { path: '/usr/bin/x' },
      message: 'added',
    };
    expect(redactFinding(integrity)).toBe(integrity);
    expect(presentFindings([outbound], true)).toEqual([outbound]);
    expect(presentFindings([outbound], false)[0]?.subject.remote_address).toBe('[redacted]');
  });
});

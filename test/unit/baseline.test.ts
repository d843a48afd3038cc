import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { baselineFormat, canonicalJson, sealBaseline, verifyBaseline, type BaselineBody } from '../../src/baseline/baseline.js';
import { diffBaselines, diffText } from '../../src/baseline/diff.js';
import { BaselineKeeper } from '../../src/baseline/keeper.js';
import { BaselineStore } from '../../src/baseline/store.js';
import { createLogger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/cli.js';

const body: BaselineBody = {
  format: baselineFormat,
  hostname: 'web-1',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-02T00:00:00.000Z',
  origin: 'operator',
  sections: { processes: { '/usr/sbin/sshd': { users: ['root'] } } },
};
const key = Buffer.from('0123456789abcdef0123456789abcdef');

describe('baseline sealing and verification', () => {
  it('hashes a canonical form: key order and whitespace do not matter', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":0,"z":1}]},"b":1}');
    const reordered = JSON.stringify(JSON.parse(JSON.stringify(sealBaseline(body))), null, 4);
    expect(verifyBaseline(reordered).status).toBe('verified');
  });

  it('verifies an untouched document', () => {
    expect(verifyBaseline(JSON.stringify(sealBaseline(body)))).toEqual({ status: 'verified', body, signed: false });
  });

  it('reports an edit made outside `baseline update` as tampered', () => {
    const document = sealBaseline(body);
    const edited = { ...document, sections: { processes: { '/tmp/evil': { users: ['root'] } } } };
    const verdict = verifyBaseline(JSON.stringify(edited));
    expect(verdict.status).toBe('tampered');
    expect(verdict.status === 'tampered' && verdict.problem).toMatch(/SHA-256/);
  });

  it('with a key, needs a matching HMAC: a re-hashed edit without the key is caught', () => {
    const signed = sealBaseline(body, key);
    expect(verifyBaseline(JSON.stringify(signed), key)).toMatchObject({ status: 'verified', signed: true });
    const forged = sealBaseline({ ...body, sections: {} }); // attacker recomputes the SHA-256 but has no key
    expect(verifyBaseline(JSON.stringify({ ...forged, hmac_sha256: signed.hmac_sha256 }), key)).toMatchObject({ status: 'tampered' });
    expect(verifyBaseline(JSON.stringify(forged), key)).toMatchObject({ status: 'tampered', problem: expect.stringMatching(/no HMAC/) });
    expect(verifyBaseline(JSON.stringify(signed), Buffer.from('another key of 16+ bytes'))).toMatchObject({ status: 'tampered' });
  });

  it('reports garbage and foreign JSON as corrupt, with the reason', () => {
    expect(verifyBaseline('{"format": "hostguard')).toMatchObject({ status: 'corrupt', problem: expect.stringMatching(/^not JSON/) });
    expect(verifyBaseline('{"format":"aide"}')).toMatchObject({ status: 'corrupt', problem: expect.stringMatching(/format/) });
  });
});

describe('the baseline keeper', () => {
  it('trusts what it has just written without reading it back, and still catches a later edit of the file', () => {
    const store = new BaselineStore(tempDir(), key);
    const lines: string[] = [];
    const keeper = new BaselineKeeper(store, createLogger({ level: 'info', format: 'json', write: (line) => lines.push(line) }));
    const read = vi.spyOn(store, 'read');

    const written = keeper.write(body.sections, 'operator');
    expect(read).not.toHaveBeenCalled();
    expect(keeper.current).toEqual({ status: 'verified', body: written, signed: true });
    expect(keeper.refresh()).toEqual({ status: 'verified', body: written, signed: true });
    expect(read).not.toHaveBeenCalled();
    expect(lines.join('\n')).not.toMatch(/changed on disk/);
    expect(verifyBaseline(readFileSync(store.path, 'utf8'), key)).toEqual({ status: 'verified', body: written, signed: true });

    const document = JSON.parse(readFileSync(store.path, 'utf8'));
    document.sections.processes['/tmp/implant'] = { users: ['root'] };
    writeFileSync(store.path, JSON.stringify(document));
    expect(keeper.refresh()).toMatchObject({ status: 'tampered' });
    expect(keeper.trustedSections).toBeUndefined();
  });

  it('seals changes accepted by themselves under the HMAC, keeping origin and times; an edit of them is caught', () => {
    const store = new BaselineStore(tempDir(), key);
    const keeper = new BaselineKeeper(store, createLogger({ level: 'error', format: 'json', write: () => {} }));
    const written = keeper.write(body.sections, 'trust-on-first-use');
    const history = {
      '2026-01-03T00:00:00.000Z tree:amd64': {
        reason: 'package_install',
        package: 'tree:amd64',
        paths: { '/usr/bin/tree': { change: 'added' } },
      },
    };
    expect(keeper.acceptChanges(keeper.trustedSections!, { history })).toEqual({ written: true });
    const verdict = verifyBaseline(readFileSync(store.path, 'utf8'), key);
    expect(verdict).toMatchObject({
      status: 'verified',
      signed: true,
      body: { origin: 'trust-on-first-use', created_at: written.created_at, updated_at: written.updated_at },
    });
    expect(verdict.status === 'verified' && verdict.body.sections).toEqual({ ...body.sections, history });

    const document = JSON.parse(readFileSync(store.path, 'utf8'));
    document.sections.history['2026-01-03T00:00:00.000Z tree:amd64'].paths['/usr/bin/sshd'] = { change: 'added' };
    writeFileSync(store.path, JSON.stringify(document));
    expect(verifyBaseline(readFileSync(store.path, 'utf8'), key)).toMatchObject({ status: 'tampered' });
  });

  it('refuses to accept into a baseline that does not verify, or that changed since the judgment', () => {
    const store = new BaselineStore(tempDir());
    const keeper = new BaselineKeeper(store, createLogger({ level: 'error', format: 'json', write: () => {} }));
    keeper.write(body.sections, 'operator');
    const judgedAgainst = keeper.trustedSections!;
    // `baseline update` from another process meanwhile: a new file, other sections.
    new BaselineStore(store.path.replace(/\/baseline\.json$/, '')).write({ processes: {} }, 'operator');
    expect(keeper.acceptChanges(judgedAgainst, { history: {} })).toEqual({
      written: false,
      reason: 'the baseline changed on disk since the judgment',
    });
    writeFileSync(store.path, '{"not": "a baseline"}');
    expect(keeper.acceptChanges(keeper.trustedSections ?? judgedAgainst, { history: {} })).toMatchObject({
      written: false,
      reason: 'the baseline is corrupt',
    });
    expect(readFileSync(store.path, 'utf8')).toBe('{"not": "a baseline"}');
  });
});

describe('baseline diff', () => {
  it('lists added, removed and changed entries per section', () => {
    const diffs = diffBaselines(
      { processes: { '/a': { users: ['root'] }, '/b': { users: ['root'] } }, listeners: { 'tcp:22': {} } },
      { processes: { '/a': { users: ['root', 'www-data'] }, '/c': { users: ['root'] } }, listeners: { 'tcp:22': {} } },
    );
    expect(diffs).toEqual([{ section: 'processes', added: ['/c'], removed: ['/b'], changed: ['/a'] }]);
    expect(diffText(diffs)).toBe('[processes] 1 added, 1 removed, 1 changed\n+ /c\n- /b\n~ /a\n');
    expect(diffText([])).toBe('no changes\n');
  });
});

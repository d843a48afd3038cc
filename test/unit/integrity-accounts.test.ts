import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountPaths, authorizedKeyPaths, expandKeyFile, parseSshdConfig, startupFilePaths } from '../../src/integrity/account-paths.js';
import { withoutAliases } from '../../src/integrity/effective-paths.js';
import { parseCache } from '../../src/integrity/hash-cache.js';
import { describeWriter, withWriters } from '../../src/integrity/judge-writers.js';
import { finding } from '../../src/findings/kinds.js';
import { integrityKinds } from '../../src/integrity/kinds.js';
import { tempDir } from '../helpers/cli.js';

const root = { name: 'root', uid: 0, home: '/root' };
const alice = { name: 'alice', uid: 1000, home: '/home/alice/' };
const nobody = { name: 'nobody', uid: 65534, home: '/nonexistent' };
const broken = { name: 'ghost', uid: 1001, home: '' };

describe('SSH authorized keys of every account', () => {
  it('reads AuthorizedKeysFile and Include from sshd_config, Match blocks included, "none" dropped', () => {
    const config = [
      '# comment',
      'Include /etc/ssh/sshd_config.d/*.conf',
      'AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u',
      'Match Group admins',
      '  AuthorizedKeysFile "/srv/keys/%U file" none',
      'authorizedkeysfile=%h/.ssh/extra',
    ].join('\n');
    expect(parseSshdConfig(config)).toEqual({
      patterns: ['.ssh/authorized_keys', '/etc/ssh/keys/%u', '/srv/keys/%U file', '%h/.ssh/extra'],
      includes: ['/etc/ssh/sshd_config.d/*.conf'],
    });
  });

  it('expands %h, %u, %U and %% for each account, relative paths from the home', () => {
    expect(expandKeyFile('.ssh/authorized_keys', alice)).toBe('/home/alice/.ssh/authorized_keys');
    expect(expandKeyFile('/etc/ssh/keys/%u-%U-%%', alice)).toBe('/etc/ssh/keys/alice-1000-%');
    expect(expandKeyFile('%h/k', root)).toBe('/root/k');
    expect(expandKeyFile('/keys/%C', alice)).toBeUndefined();
  });

  it("uses sshd's default for every account with a home, nologin ones too, and ~/.ssh/rc", () => {
    expect(authorizedKeyPaths([root, nobody, broken], [])).toEqual([
      '/nonexistent/.ssh/authorized_keys',
      '/nonexistent/.ssh/authorized_keys2',
      '/nonexistent/.ssh/rc',
      '/root/.ssh/authorized_keys',
      '/root/.ssh/authorized_keys2',
      '/root/.ssh/rc',
    ]);
    expect(startupFilePaths([alice])).toContain('/home/alice/.bashrc');
  });

  it("reads the host's passwd and sshd configuration with its Includes under the root given", () => {
    const rootfs = tempDir();
    mkdirSync(join(rootfs, 'etc/ssh/sshd_config.d'), { recursive: true });
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n');
    writeFileSync(join(rootfs, 'etc/ssh/sshd_config'), 'Include sshd_config.d/*.conf\n');
    writeFileSync(
      join(rootfs, 'etc/ssh/sshd_config.d/keys.conf'),
      'AuthorizedKeysFile /etc/ssh/authorized/%u\nInclude /etc/ssh/sshd_config\n',
    );
    expect(accountPaths(rootfs, { sshKeys: true, startupFiles: false }).sort()).toEqual([
      '/etc/ssh/authorized/alice',
      '/etc/ssh/authorized/root',
      '/home/alice/.ssh/rc',
      '/root/.ssh/rc',
    ]);
    expect(accountPaths(join(rootfs, 'missing'), { sshKeys: true, startupFiles: true })).toEqual([]);
  });
});

describe('aliases through top-level links', () => {
  it('drops /lib/... when /lib leads to /usr/lib and the policy watches that, keeps it on a host that is not merged', () => {
    const paths = [
      '/usr/lib/*-linux-gnu*/security',
      '/lib/*-linux-gnu*/security',
      '/lib/security',
      '/bin/.ssh/authorized_keys',
      '/usr/bin',
    ];
    expect(
      withoutAliases(
        paths,
        new Map([
          ['/lib', '/usr/lib'],
          ['/bin', '/usr/bin'],
        ]),
      ),
    ).toEqual(['/usr/lib/*-linux-gnu*/security', '/lib/security', '/usr/bin']);
    expect(withoutAliases(paths, new Map())).toEqual(paths);
  });
});

describe('the hash cache', () => {
  it('keeps valid rows and drops the rest, and ignores another format', () => {
    const sha = 'a'.repeat(64);
    const parsed = parseCache({
      format: 'hostguard-hash-cache/1',
      files: { '/usr/bin/ls': ['1:2:3:4', sha, 'b'.repeat(32)], '/bad': ['k', 'not hex'], '/worse': 'x' },
      images: { '8:1:2:3:4:5': ['8:1:2:3:4:5', sha] },
    });
    expect([...parsed.files]).toEqual([['/usr/bin/ls', { key: '1:2:3:4', sha256: sha, md5: 'b'.repeat(32) }]]);
    expect([...parsed.images.keys()]).toEqual(['8:1:2:3:4:5']);
    expect(parseCache({ format: 'other', files: {} }).files.size).toBe(0);
    expect(parseCache(null).images.size).toBe(0);
  });
});

describe('who changed a file', () => {
  const changed = finding(integrityKinds.content_changed, { path: '/etc/passwd' }, 'content of /etc/passwd changed');
  const package_ = finding(integrityKinds.package_mismatch, { path: '/usr/bin/ls', package: 'coreutils' }, 'differs');

  it('says "writer unknown" without a source, and names the writer when one knows it', () => {
    expect(withWriters([changed, package_], () => undefined).map((f) => f.message)).toEqual([
      'content of /etc/passwd changed; writer unknown',
      'differs',
    ]);
    const writer = { exe: '/usr/bin/vi', auid: 1000, uid: 0, pid: 4242 };
    expect(withWriters([changed], (p) => (p === '/etc/passwd' ? writer : undefined))[0]?.message).toBe(
      'content of /etc/passwd changed; written by /usr/bin/vi (pid 4242, uid 0, auid 1000)',
    );
    expect(describeWriter({ ...writer, auid: undefined })).toMatch(/auid unset/);
  });
});

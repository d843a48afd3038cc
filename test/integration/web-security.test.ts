import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import bcrypt from 'bcryptjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { makeCertificates, type TestCertificates } from '../helpers/certificates.js';

interface ClientOptions {
  ca?: string;
  cert?: string;
  key?: string;
  maxVersion?: SecureVersion;
  minVersion?: SecureVersion;
  auth?: string;
}

type Outcome = { status: number; headers: Record<string, string | string[] | undefined>; body: string } | { error: string };

/** One HTTPS request with a real TLS client; a refused handshake is an outcome, not a throw. */
function get(url: string, options: ClientOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        ca: options.ca ? readFileSync(options.ca) : undefined,
        cert: options.cert ? readFileSync(options.cert) : undefined,
        key: options.key ? readFileSync(options.key) : undefined,
        minVersion: options.minVersion,
        maxVersion: options.maxVersion,
        // OpenSSL 3 refuses TLS 1.1 at its default security level even on the client side.
        ciphers: options.maxVersion === 'TLSv1.1' ? 'DEFAULT@SECLEVEL=0' : undefined,
        headers: options.auth ? { Authorization: `Basic ${Buffer.from(options.auth).toString('base64')}` } : {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

const statusOf = (outcome: Outcome) => ('status' in outcome ? outcome.status : outcome.error);

describe('--web.config.file (exporter-toolkit format)', () => {
  let certs: TestCertificates;
  let dir: string;
  let aliceHash: string;

  beforeAll(async () => {
    dir = tempDir();
    certs = makeCertificates(dir);
    aliceHash = await bcrypt.hash('correct horse', 10);
  });

  async function serveWith(config: string) {
    const file = join(dir, `web-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, config);
    const exporter = await startExporter(['--state.dir', tempDir(), '--collector.disable-defaults', '--web.config.file', file]);
    return { ...exporter, file, https: `https://127.0.0.1:${exporter.port}` };
  }

  it('serves TLS 1.2+ only: a TLS 1.1 client and a plain-HTTP client are refused', async () => {
    const server = await serveWith(`tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n`);
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert }))).toBe(200);
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert, maxVersion: 'TLSv1.2' }))).toBe(200);
    const old = await get(`${server.https}/metrics`, { ca: certs.caCert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
    expect('error' in old && old.error).toMatch(/ERR_SSL|EPROTO|ECONNRESET/);
    const plain = await fetch(`http://127.0.0.1:${server.port}/metrics`).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    expect(plain).not.toBe(200);
  });

  it('requires a trusted client certificate with RequireAndVerifyClientCert', async () => {
    const server = await serveWith(
      `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certs.caCert}\n`,
    );
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey }))).toBe(200);
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert }))).not.toBe(200);
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert, cert: certs.strangerCert, key: certs.strangerKey }))).not.toBe(
      200,
    );
  });

  it('checks client certificate SANs when asked', async () => {
    const server = await serveWith(
      `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certs.caCert}\n  client_allowed_sans: [grafana.example]\n`,
    );
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey }))).toBe(403);
  });

  it('requires basic auth with a bcrypt-hashed password, and sets the configured headers', async () => {
    const server = await serveWith(
      `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n` +
        `basic_auth_users:\n  alice: ${aliceHash}\n` +
        `http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=31536000\n`,
    );
    const none = await get(`${server.https}/metrics`, { ca: certs.caCert });
    expect(statusOf(none)).toBe(401);
    expect('headers' in none && none.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert, auth: 'alice:wrong horse' }))).toBe(401);
    expect(statusOf(await get(`${server.https}/metrics`, { ca: certs.caCert, auth: 'mallory:correct horse' }))).toBe(401);
    const ok = await get(`${server.https}/metrics`, { ca: certs.caCert, auth: 'alice:correct horse' });
    expect(statusOf(ok)).toBe(200);
    expect('headers' in ok && [ok.headers['x-frame-options'], ok.headers['strict-transport-security']]).toEqual([
      'deny',
      'max-age=31536000',
    ]);
    expect('body' in ok && ok.body).toContain('hostguard_build_info');
  });

  it('re-reads the file on change: a new password works without a restart', async () => {
    const server = await serveWith(`basic_auth_users:\n  alice: ${aliceHash}\n`);
    const plain = (auth: string) =>
      fetch(`${server.url}/metrics`, { headers: { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } }).then((r) => r.status);
    expect(await plain('alice:correct horse')).toBe(200);
    writeFileSync(server.file, `basic_auth_users:\n  alice: ${await bcrypt.hash('battery staple', 10)}\n`);
    // The file is looked at again on a timer: the new password works once it has been.
    await eventually(async () => (await plain('alice:battery staple')) === 200, { what: 'the new password accepted' });
    expect(await plain('alice:correct horse')).toBe(401);
  });

  it.each([
    [
      'an unknown key',
      'tls_server_config:\n  cert_file: x\n  key_file: y\n  client_auth: RequireAndVerifyClientCert\n',
      'tls_server_config.client_auth: unknown key',
    ],
    ['a password that is not a bcrypt hash', 'basic_auth_users:\n  alice: hunter2\n', 'basic_auth_users.alice: not a bcrypt hash'],
    [
      'a missing certificate file',
      'tls_server_config:\n  cert_file: /nonexistent/server.crt\n  key_file: /nonexistent/server.key\n',
      'cannot read cert /nonexistent/server.crt',
    ],
    ['a bad TLS version', 'tls_server_config:\n  cert_file: x\n  key_file: y\n  min_version: TLS14\n', 'tls_server_config.min_version'],
  ])('refuses to start on %s, in one line naming the file', (_what, config, message) => {
    const file = join(dir, 'bad-web.yml');
    writeFileSync(file, config);
    const { code, stderr } = runCli(['--state.dir', tempDir(), '--web.config.file', file]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`${file}: `);
    expect(stderr).toContain(message);
  });
});

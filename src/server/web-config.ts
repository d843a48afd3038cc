import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { dirname, isAbsolute, resolve } from 'node:path';
import { load, YAMLException } from 'js-yaml';
import { z } from 'zod';
import { durationMsField } from '../config/duration-field.js';
import { describeErrno } from '../state/state-dir.js';
import { WebConfigError } from './web-config-error.js';

/**
 * --web.config.file in the format every Prometheus exporter shares (prometheus/exporter-toolkit):
 * TLS, client certificates, basic auth with bcrypt hashes, response headers, a rate limit.
 */

export const clientAuthTypes = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof clientAuthTypes)[number];

const tlsVersions = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof tlsVersions;

/** Go's cipher suite names (crypto/tls) → OpenSSL's, for the suites Go supports up to TLS 1.2. */
const cipherSuites: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

const curves: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

const tlsSchema = z
  .object({
    cert: z.string().optional(),
    key: z.string().optional(),
    client_ca: z.string().optional(),
    cert_file: z.string().optional(),
    key_file: z.string().optional(),
    client_auth_type: z.enum(clientAuthTypes).default('NoClientCert'),
    client_ca_file: z.string().optional(),
    client_allowed_sans: z.array(z.string()).optional(),
    min_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).default('TLS12'),
    max_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).default('TLS13'),
    cipher_suites: z.array(z.string()).optional(),
    prefer_server_cipher_suites: z.boolean().default(true),
    curve_preferences: z.array(z.string()).optional(),
  })
  .strict();

const headerNames = [
  'Content-Security-Policy',
  'X-Frame-Options',
  'X-Content-Type-Options',
  'X-XSS-Protection',
  'Strict-Transport-Security',
] as const;

const schema = z
  .object({
    tls_server_config: tlsSchema.optional(),
    http_server_config: z
      .object({
        http2: z.boolean().default(true),
        headers: z
          .object(
            Object.fromEntries(headerNames.map((h) => [h, z.string().optional()])) as Record<
              (typeof headerNames)[number],
              z.ZodOptional<z.ZodString>
            >,
          )
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    basic_auth_users: z
      .record(z.string().regex(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/, 'not a bcrypt hash ($2y$10$...)'))
      .nullable()
      .optional(),
    rate_limit: z
      .object({ interval: durationMsField(['ms', 's', 'm', 'h'], 'a duration like 1s'), burst: z.number().int().min(0) })
      .strict()
      .optional(),
  })
  .strict();

/** The TLS options resolved from the file, ready for tls.createSecureContext and the server. */
export interface TlsSettings {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
  readonly clientAuth: ClientAuthType;
  readonly allowedSans: readonly string[];
  readonly minVersion: (typeof tlsVersions)[TlsVersionName];
  readonly maxVersion: (typeof tlsVersions)[TlsVersionName];
  readonly ciphers: string | undefined;
  readonly honorCipherOrder: boolean;
  readonly ecdhCurve: string | undefined;
}

export interface WebConfig {
  readonly tls: TlsSettings | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** user → bcrypt hash; empty means no authentication. */
  readonly users: ReadonlyMap<string, string>;
  readonly rateLimit: { readonly intervalMs: number; readonly burst: number } | undefined;
  /** Files the configuration depends on, for change detection. */
  readonly files: readonly string[];
}

export const emptyWebConfig: WebConfig = { tls: undefined, headers: {}, users: new Map(), rateLimit: undefined, files: [] };

/** Read, validate and resolve a web config file (and the certificate files it names). */
export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new WebConfigError(file, `cannot read it (${describeErrno(error)})`);
  }
  return parseWebConfig(text, file);
}

/** Validate a web config's text; certificate paths are relative to the directory of `file`. */
export function parseWebConfig(text: string, file: string): WebConfig {
  let raw: unknown;
  try {
    raw = load(text, { filename: file });
  } catch (error) {
    throw new WebConfigError(file, `invalid YAML: ${error instanceof YAMLException ? error.reason : String(error)}`);
  }
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = [...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys[0] ?? ''] : [])].join('.');
    throw new WebConfigError(file, `${key || '(top level)'}: ${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}`);
  }
  const config = parsed.data;
  const base = dirname(file);
  const files = [file];
  const readPem = (inline: string | undefined, path: string | undefined, what: string): string | undefined => {
    if (inline !== undefined && path !== undefined)
      throw new WebConfigError(file, `tls_server_config: give ${what} inline or as a file, not both`);
    if (inline !== undefined) return inline;
    if (path === undefined) return undefined;
    const full = isAbsolute(path) ? path : resolve(base, path);
    files.push(full);
    try {
      return readFileSync(full, 'utf8');
    } catch (error) {
      throw new WebConfigError(file, `tls_server_config: cannot read ${what} ${full} (${describeErrno(error)})`);
    }
  };
  let tls: TlsSettings | undefined;
  const t = config.tls_server_config;
  if (t) {
    const cert = readPem(t.cert, t.cert_file, 'cert');
    const key = readPem(t.key, t.key_file, 'key');
    if (!cert || !key) throw new WebConfigError(file, 'tls_server_config: cert_file and key_file (or cert and key) are required');
    const ca = readPem(t.client_ca, t.client_ca_file, 'client_ca');
    if ((t.client_auth_type === 'RequireAndVerifyClientCert' || t.client_auth_type === 'VerifyClientCertIfGiven') && !ca) {
      throw new WebConfigError(file, `tls_server_config: client_auth_type ${t.client_auth_type} needs client_ca_file`);
    }
    if (
      t.client_allowed_sans?.length &&
      t.client_auth_type !== 'RequireAnyClientCert' &&
      t.client_auth_type !== 'RequireAndVerifyClientCert'
    ) {
      throw new WebConfigError(
        file,
        'tls_server_config: client_allowed_sans needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert',
      );
    }
    const ciphers = t.cipher_suites?.map((name) => {
      const openssl = cipherSuites[name];
      if (!openssl) throw new WebConfigError(file, `tls_server_config.cipher_suites: unknown cipher suite ${name}`);
      return openssl;
    });
    const curveList = t.curve_preferences?.map((name) => {
      const openssl = curves[name];
      if (!openssl) throw new WebConfigError(file, `tls_server_config.curve_preferences: unknown curve ${name}`);
      return openssl;
    });
    if (Number(t.min_version.slice(3)) > Number(t.max_version.slice(3)))
      throw new WebConfigError(file, 'tls_server_config: min_version is above max_version');
    try {
      createSecureContext({
        cert,
        key,
        ca,
        minVersion: tlsVersions[t.min_version],
        maxVersion: tlsVersions[t.max_version],
        ciphers: ciphers?.join(':'),
        ecdhCurve: curveList?.join(':'),
      });
    } catch (error) {
      throw new WebConfigError(
        file,
        `tls_server_config: certificate, key or CA unusable (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    tls = {
      cert,
      key,
      ca,
      clientAuth: t.client_auth_type,
      allowedSans: t.client_allowed_sans ?? [],
      minVersion: tlsVersions[t.min_version],
      maxVersion: tlsVersions[t.max_version],
      ciphers: ciphers?.join(':'),
      honorCipherOrder: t.prefer_server_cipher_suites,
      ecdhCurve: curveList?.join(':'),
    };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.http_server_config?.headers ?? {})) if (value) headers[name] = value;
  const rate = config.rate_limit;
  return {
    tls,
    headers,
    users: new Map(Object.entries(config.basic_auth_users ?? {})),
    rateLimit: rate ? { intervalMs: rate.interval, burst: rate.burst } : undefined,
    files,
  };
}

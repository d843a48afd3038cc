import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The baseline is the learned known-good state of a host (executables and their users,
 * listeners, file hashes), kept apart from the human-written policy. It is stored as one JSON
 * file carrying a SHA-256 of its canonical body and, when a key file is configured, an HMAC, so
 * that an edit made outside `baseline update` is visible.
 */
export const baselineFormat = 'hostguard-baseline/1' as const;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** One collector's section: entries keyed by subject (an executable path, a listener, a file). */
export type BaselineEntries = Record<string, JsonValue>;
export type BaselineSections = Readonly<Record<string, BaselineEntries>>;
export type BaselineOrigin = 'trust-on-first-use' | 'operator';

export interface BaselineBody {
  format: typeof baselineFormat;
  hostname: string;
  created_at: string;
  updated_at: string;
  origin: BaselineOrigin;
  sections: Record<string, BaselineEntries>;
}

export interface BaselineDocument extends BaselineBody {
  sha256: string;
  hmac_sha256?: string;
}

// Entry values come from JSON.parse, so they are JSON by construction; each collector checks its own shape.
const jsonValue = z.custom<JsonValue>(() => true);

const documentSchema = z
  .object({
    format: z.literal(baselineFormat),
    hostname: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    origin: z.enum(['trust-on-first-use', 'operator']),
    sections: z.record(z.string(), z.record(z.string(), jsonValue)),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    hmac_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict();

/** JSON with object keys sorted at every level: the same body always hashes the same. */
export function canonicalJson(value: JsonValue | BaselineBody): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function bodyChecksum(body: BaselineBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export function bodyHmac(body: BaselineBody, key: Buffer): string {
  return createHmac('sha256', key).update(canonicalJson(body)).digest('hex');
}

export function sealBaseline(body: BaselineBody, key?: Buffer): BaselineDocument {
  const document: BaselineDocument = { ...body, sha256: bodyChecksum(body) };
  if (key) document.hmac_sha256 = bodyHmac(body, key);
  return document;
}

export type BaselineVerdict =
  | { status: 'verified'; body: BaselineBody; signed: boolean }
  | { status: 'tampered'; body: BaselineBody; problem: string }
  | { status: 'corrupt'; problem: string };

/** Parse and verify a baseline file's text. Pure: the caller reads the file. */
export function verifyBaseline(text: string, key?: Buffer): BaselineVerdict {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { status: 'corrupt', problem: `not JSON: ${(error as Error).message}` };
  }
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { status: 'corrupt', problem: `not a ${baselineFormat} document: ${issue?.path.join('.') || '(top)'}: ${issue?.message}` };
  }
  const { sha256, hmac_sha256, ...body } = parsed.data;
  if (!sameHex(bodyChecksum(body), sha256)) {
    return { status: 'tampered', body, problem: 'content does not match its SHA-256: edited outside `baseline update`' };
  }
  if (key) {
    if (!hmac_sha256) return { status: 'tampered', body, problem: 'a key file is configured but the baseline carries no HMAC' };
    if (!sameHex(bodyHmac(body, key), hmac_sha256)) {
      return { status: 'tampered', body, problem: 'HMAC does not match: written without the key' };
    }
    return { status: 'verified', body, signed: true };
  }
  return { status: 'verified', body, signed: false };
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

export function entryCount(body: BaselineBody): Record<string, number> {
  return Object.fromEntries(Object.entries(body.sections).map(([name, entries]) => [name, Object.keys(entries).length]));
}

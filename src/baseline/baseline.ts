import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

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

const hex64 = /^[0-9a-f]{64}$/;
const documentKeys = new Set(['format', 'hostname', 'created_at', 'updated_at', 'origin', 'sections', 'sha256', 'hmac_sha256']);

/**
 * The shape of a baseline document, checked in place: entry values come from JSON.parse, so they
 * are JSON by construction, and each collector checks its own entries. No copy of the sections is
 * made (a copy of an integrity section of ten thousand files costs megabytes of heap).
 */
function documentProblem(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return '(top): expected an object';
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) if (!documentKeys.has(key)) return `${key}: unknown key`;
  if (doc.format !== baselineFormat) return `format: expected "${baselineFormat}"`;
  for (const key of ['hostname', 'created_at', 'updated_at'] as const) if (typeof doc[key] !== 'string') return `${key}: expected a string`;
  if (doc.origin !== 'trust-on-first-use' && doc.origin !== 'operator') return 'origin: expected "trust-on-first-use" or "operator"';
  if (typeof doc.sha256 !== 'string' || !hex64.test(doc.sha256)) return 'sha256: expected 64 hex digits';
  if (doc.hmac_sha256 !== undefined && (typeof doc.hmac_sha256 !== 'string' || !hex64.test(doc.hmac_sha256)))
    return 'hmac_sha256: expected 64 hex digits';
  const sections = doc.sections;
  if (sections === null || typeof sections !== 'object' || Array.isArray(sections)) return 'sections: expected an object';
  for (const [name, entries] of Object.entries(sections)) {
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return `sections.${name}: expected an object`;
  }
  return undefined;
}

/** JSON with object keys sorted at every level: the same body always hashes the same. */
export function canonicalJson(value: JsonValue | BaselineBody): string {
  const parts: string[] = [];
  writeCanonical(value, (text) => parts.push(text));
  return parts.join('');
}

/**
 * Emit the canonical JSON of a value piece by piece, so a large baseline is hashed without building
 * its text or a sorted copy of it (JSON.stringify's own escaping for strings and numbers).
 */
function writeCanonical(value: unknown, write: (text: string) => void): void {
  if (value === null || typeof value !== 'object') {
    write(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    write('[');
    value.forEach((item, i) => {
      if (i > 0) write(',');
      writeCanonical(item === undefined ? null : item, write);
    });
    write(']');
    return;
  }
  const record = value as Record<string, unknown>;
  write('{');
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    write(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
    first = false;
    writeCanonical(item, write);
  }
  write('}');
}

/** The body's SHA-256 and, with a key, its HMAC, both fed from one canonical walk. */
function bodyDigests(body: BaselineBody, key?: Buffer): { sha256: string; hmac?: string } {
  const hash = createHash('sha256');
  const hmac = key && createHmac('sha256', key);
  // The pieces are gathered into 64 KiB updates: an update per piece cost more than the walk.
  let pending = '';
  const flush = () => {
    hash.update(pending);
    hmac?.update(pending);
    pending = '';
  };
  writeCanonical(body, (text) => {
    pending += text;
    if (pending.length >= 65_536) flush();
  });
  flush();
  return { sha256: hash.digest('hex'), ...(hmac && { hmac: hmac.digest('hex') }) };
}

export function sealBaseline(body: BaselineBody, key?: Buffer): BaselineDocument {
  const { sha256, hmac } = bodyDigests(body, key);
  return { ...body, sha256, ...(hmac !== undefined && { hmac_sha256: hmac }) };
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
  const problem = documentProblem(raw);
  if (problem) return { status: 'corrupt', problem: `not a ${baselineFormat} document: ${problem}` };
  const { sha256, hmac_sha256, ...body } = raw as BaselineDocument;
  const digests = bodyDigests(body, key);
  if (!sameHex(digests.sha256, sha256)) {
    return { status: 'tampered', body, problem: 'content does not match its SHA-256: edited outside `baseline update`' };
  }
  if (digests.hmac !== undefined) {
    if (!hmac_sha256) return { status: 'tampered', body, problem: 'a key file is configured but the baseline carries no HMAC' };
    if (!sameHex(digests.hmac, hmac_sha256)) {
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

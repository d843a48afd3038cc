import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadAll, YAMLException } from 'js-yaml';
import type { z } from 'zod';
import { describeErrno } from '../state/state-dir.js';
import { PolicyError } from './policy-error.js';
import { defaultPolicyYaml } from './default-policy.js';
import { policySchema, type Policy, type PolicySection } from './policy-schema.js';
import { formatPath, YamlPositions } from './yaml-positions.js';

export interface LoadedPolicy {
  readonly policy: Policy;
  readonly source: 'embedded' | 'file';
  /** The file it came from, or "(embedded default)". */
  readonly origin: string;
  readonly sha256: string;
  /** The sections the file writes, in its order; none for the embedded default, which nobody wrote. */
  readonly sections: readonly PolicySection[];
}

export const embeddedPolicyName = '(embedded default)';

/** Read and validate the policy file, or the embedded default when `file` is undefined. */
export function loadPolicy(file: string | undefined): LoadedPolicy {
  if (file === undefined) return parsePolicy(defaultPolicyYaml, embeddedPolicyName, 'embedded');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyError(file, undefined, undefined, `cannot read the policy file (${describeErrno(error)})`);
  }
  return parsePolicy(text, file, 'file');
}

export function parsePolicy(text: string, origin: string, source: LoadedPolicy['source'] = 'file'): LoadedPolicy {
  const raw = parseYaml(text, origin);
  const result = policySchema.safeParse(raw ?? {});
  if (!result.success) throw schemaError(result.error, text, origin);
  const sections = source === 'file' && raw ? (Object.keys(raw) as PolicySection[]) : [];
  return { policy: result.data, source, origin, sha256: createHash('sha256').update(text).digest('hex'), sections };
}

function parseYaml(text: string, origin: string): unknown {
  let documents: unknown[];
  try {
    documents = loadAll(text, { filename: origin, maxAliases: 100 });
  } catch (error) {
    if (error instanceof YAMLException) {
      throw new PolicyError(origin, error.mark ? error.mark.line + 1 : undefined, undefined, `invalid YAML: ${error.reason}`);
    }
    throw new PolicyError(origin, undefined, undefined, `invalid YAML: ${(error as Error).message}`);
  }
  if (documents.length > 1) throw new PolicyError(origin, undefined, undefined, 'expected one YAML document, found several');
  const document = documents[0];
  if (document !== undefined && document !== null && (typeof document !== 'object' || Array.isArray(document))) {
    throw new PolicyError(origin, 1, undefined, 'the policy must be a mapping of sections (processes, listeners, ...)');
  }
  return document;
}

function schemaError(error: z.ZodError, text: string, origin: string): PolicyError {
  const positions = new YamlPositions(text);
  const issue = error.issues[0];
  if (!issue) return new PolicyError(origin, undefined, undefined, 'invalid policy');
  let path: PropertyKey[] = [...issue.path];
  let problem = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    path = [...path, key];
    problem = `unknown key${issue.keys.length > 1 ? `s ${issue.keys.map((k) => `"${k}"`).join(', ')}` : ''} (allowed: ${allowedKeys(path.slice(0, -1))})`;
  }
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return new PolicyError(origin, positions.lineOf(path), formatPath(path), problem + more);
}

/** The keys a mapping at `path` accepts, to help with a typo. */
function allowedKeys(path: readonly PropertyKey[]): string {
  let schema: unknown = policySchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (typeof part === 'number') schema = (schema as { _def?: { type?: unknown } })._def?.type;
    else schema = (schema as { shape?: Record<string, unknown> }).shape?.[String(part)];
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape).join(', ') : '?';
}

/** Step through wrappers (default, optional) to the schema they wrap. */
function unwrap(schema: unknown): unknown {
  let current = schema as { _def?: { innerType?: unknown } } | undefined;
  while (current?._def?.innerType) current = current._def.innerType as typeof current;
  return current;
}

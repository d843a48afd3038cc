import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describeErrno } from '../state/state-dir.js';

export class WebConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'WebConfigError';
  }
}

const knownSections = ['tls_server_config', 'basic_auth_users', 'http_server_config'];

/**
 * --web.config.file in exporter-toolkit's format. This version reads and checks the file but
 * serves neither TLS nor basic auth yet, so a file that asks for them is refused at start-up:
 * silently serving plain HTTP to an operator who configured TLS would be worse than not starting.
 */
export function checkWebConfig(file: string): void {
  let raw: unknown;
  try {
    raw = load(readFileSync(file, 'utf8'), { filename: file });
  } catch (error) {
    throw new WebConfigError(file, error instanceof Error && 'reason' in error ? `invalid YAML: ${String(error.reason)}` : describeErrno(error));
  }
  if (raw === null || raw === undefined) return;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new WebConfigError(file, 'expected a mapping');
  for (const key of Object.keys(raw)) {
    if (!knownSections.includes(key)) throw new WebConfigError(file, `unknown key "${key}" (allowed: ${knownSections.join(', ')})`);
    throw new WebConfigError(file, `"${key}" is not supported by this version yet; refusing to serve without it`);
  }
}

import { readFileSync } from 'node:fs';

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
}

/** Version from package.json; revision from dist/build-info.json, written by `npm run build`. */
export function buildInfo(): BuildInfo {
  const pkg = readJson(new URL('../package.json', import.meta.url)) as { version?: string } | undefined;
  const info = readJson(new URL('./build-info.json', import.meta.url)) as { revision?: string } | undefined;
  return { version: pkg?.version ?? '0.0.0', revision: info?.revision ?? 'unknown' };
}

function readJson(url: URL): unknown {
  try {
    return JSON.parse(readFileSync(url, 'utf8'));
  } catch {
    return undefined;
  }
}

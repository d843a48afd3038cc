// After tsc: record the git revision for hostguard_build_info, and make the bin executable.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';

let revision = 'unknown';
try {
  revision = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
} catch {
  // not a git checkout (an npm tarball): keep "unknown"
}
writeFileSync(new URL('../dist/build-info.json', import.meta.url), JSON.stringify({ revision }) + '\n');
chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);

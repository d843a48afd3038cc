// Records the git revision the package was built from, for hostguard_build_info.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

let revision = 'unknown';
try {
  revision = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  // not a git checkout (an npm tarball): keep "unknown"
}
writeFileSync(new URL('../dist/build-info.json', import.meta.url), JSON.stringify({ revision }) + '\n');

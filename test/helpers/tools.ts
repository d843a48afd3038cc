import { execFileSync } from 'node:child_process';

/**
 * The path of a host tool the test needs (promtool, prometheus, aide, ...). A missing tool fails
 * the test with the Debian package to install; it is never skipped, in CI or elsewhere.
 */
export function requireTool(name: string, debianPackage: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: run \`apt-get install ${debianPackage}\` (scripts/install-test-deps does it for all tests)`);
  }
}

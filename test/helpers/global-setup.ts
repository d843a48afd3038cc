import { execFileSync } from 'node:child_process';

/** Tests run the shipped artifact (dist/), so build it once from the current sources. */
export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}

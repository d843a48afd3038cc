import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baselineFormat, sealBaseline } from '../../src/baseline/baseline.js';
import { BaselineStore } from '../../src/baseline/store.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { spawnOwned, stopProcess, waitForOutput } from '../helpers/processes.js';

/** Rewrites the baseline with two prepared generations in turn, through the exporter's atomic write. */
const writerScript = `
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from ${JSON.stringify(join(repoRoot, 'dist/state/atomic-write.js'))};
const [stateDir, first, second] = process.argv.slice(1);
const texts = [readFileSync(first), readFileSync(second)];
let n = 0;
writeFileAtomic(stateDir + '/baseline.json', texts[n++ % 2]);
console.log('writing');
for (;;) writeFileAtomic(stateDir + '/baseline.json', texts[n++ % 2]);
`;

function generation(digit: number): string {
  const entries = Object.fromEntries(
    Array.from({ length: 60_000 }, (_, i) => [`/usr/lib/file-${i}`, { sha256: String(digit).repeat(64), size: i }]),
  );
  const body = {
    format: baselineFormat,
    hostname: 'h',
    created_at: 'c',
    updated_at: 'u',
    origin: 'operator' as const,
    sections: { integrity: entries },
  };
  return JSON.stringify(sealBaseline(body));
}

describe('baseline writes', () => {
  it('survive kill -9 at any moment: the file always holds one whole, verified generation', async () => {
    const work = tempDir();
    const stateDir = tempDir();
    const files = [1, 2].map((digit) => {
      const file = join(work, `generation-${digit}.json`);
      writeFileSync(file, generation(digit));
      return file;
    });
    const store = new BaselineStore(stateDir);
    for (let round = 0; round < 12; round++) {
      const writer = spawnOwned(process.execPath, ['--input-type=module', '-e', writerScript, stateDir, ...files]);
      await waitForOutput(writer, /writing/);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 150));
      await stopProcess(writer, 'SIGKILL');
      const state = store.read();
      expect(state.status, `round ${round}: ${JSON.stringify(state).slice(0, 160)}`).toBe('verified');
      expect([readFileSync(files[0]!, 'utf8'), readFileSync(files[1]!, 'utf8')]).toContain(readFileSync(store.path, 'utf8'));
    }
    // Besides the baseline, at most the temporary files of killed writers remain.
    expect(
      readdirSync(stateDir)
        .filter((f) => f !== 'baseline.json')
        .every((f) => /^\.baseline\.json\.\d+\.tmp$/.test(f)),
    ).toBe(true);
  }, 120_000);
});

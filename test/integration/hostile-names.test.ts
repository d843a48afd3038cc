import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { sampleValue } from '../helpers/exposition.js';
import { startPrometheus } from '../helpers/monitoring-stack.js';
import { stopProcess } from '../helpers/processes.js';
import { requireTool } from '../helpers/tools.js';

/**
 * Names chosen by an attacker end up in label values (executable paths, watched file paths): quotes,
 * newlines, backslashes, bytes that are not UTF-8, paths thousands of characters long. The
 * exposition must stay valid for Prometheus' own parser, and the JSON and the page must stay valid.
 */
describe('hostile names', () => {
  it('keep the exposition valid for promtool and a real Prometheus scrape, and the findings valid JSON', async () => {
    const promtool = requireTool('promtool', 'prometheus');
    const work = tempDir('hostguard-hostile-');
    const drop = join(work, 'drop');
    const watched = join(work, 'watched');
    mkdirSync(drop);
    mkdirSync(watched);
    // Long: nested directories up to ~3,900 characters, then a file (a Linux path stops at 4,096 bytes).
    const longDir = join(drop, ...Array.from({ length: 15 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(250)}`));
    mkdirSync(longDir, { recursive: true });
    // Bash builds names Node cannot hold as strings: bytes 0xff 0xfe are not UTF-8.
    const script = `
      set -e
      cd "$1"
      for name in 'quote"d' $'new\\nline' 'back\\slash' $'bad\\xff\\xfeutf8' 'tab\tand {brace}=x'; do
        cp /usr/bin/sleep "$name"
        bash -c 'exec -a "$0" "$1" 300' "$name" "./$name" </dev/null >/dev/null 2>&1 &
        echo $!
        printf 'content' > "$2/$name"
      done
      cp /usr/bin/sleep "$3/long"
      "$3/long" 300 </dev/null >/dev/null 2>&1 &
      echo $!
    `;
    const planted = spawnSync('bash', ['-c', script, 'plant', drop, watched, longDir], { encoding: 'utf8' });
    expect(planted.status, planted.stderr).toBe(0);
    // The planted processes, stopped by PID at the end whatever happens.
    const pids = planted.stdout.trim().split('\n').map(Number);
    expect(pids).toHaveLength(6);
    try {
      const policy = join(work, 'policy.yml');
      writeFileSync(policy, `integrity:\n  paths: [${JSON.stringify(watched)}]\n`);
      const args = [
        '--state.dir',
        join(work, 'state'),
        '--config.file',
        policy,
        '--collector.disable-defaults',
        '--collector.processes',
        '--collector.integrity',
        '--findings.show-details',
      ];
      expect(runCli([...args, 'baseline', 'init']).code).toBe(0);
      // Change every watched file so each hostile path becomes a mismatch series too.
      spawnSync('bash', ['-c', 'for f in "$1"/*; do printf changed > "$f"; done', 'touch', watched]);
      const exporter = await startExporter(args);
      // The integrity scan at start runs in the background: wait for its first result.
      const exposition = await eventually(
        async () => {
          const text = await (await fetch(`${exporter.url}/metrics`)).text();
          return (sampleValue(text, 'hostguard_integrity_last_scan_end_timestamp_seconds') ?? 0) > 0 && text;
        },
        { timeoutMs: 60_000, what: 'the integrity scan at start' },
      );

      const flagged = exposition.split('\n').filter((l) => l.startsWith('hostguard_process_flagged{'));
      const mismatches = exposition.split('\n').filter((l) => l.startsWith('hostguard_integrity_mismatch{'));
      expect(flagged.some((l) => l.includes('quote\\"d'))).toBe(true);
      expect(flagged.some((l) => l.includes('new\\nline'))).toBe(true);
      expect(flagged.some((l) => l.includes('back\\\\slash'))).toBe(true);
      expect(flagged.some((l) => l.includes('bad\uFFFD\uFFFDutf8'))).toBe(true);
      expect(flagged.some((l) => l.includes('/00xxxx'))).toBe(true); // the long path, cut to a bounded length
      // Every watched file, the one whose name is not UTF-8 included: a bad name hides nothing.
      expect(mismatches.length).toBe(5);
      expect(mismatches.some((l) => l.includes('bad\uFFFD\uFFFDutf8'))).toBe(true);

      const lint = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);

      mkdirSync(join(work, 'prom'));
      const prometheus = await startPrometheus({
        dir: join(work, 'prom'),
        targets: [{ job: 'hostguard', address: `127.0.0.1:${exporter.port}` }],
        ruleFiles: [],
      });
      const up = await eventually(
        async () => {
          const found = await prometheus.query('up{job="hostguard"} == 1');
          return found.length > 0 && found;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'Prometheus scraping the exporter' },
      );
      expect(up.length).toBe(1);
      const stored = await prometheus.query('hostguard_process_flagged{exe=~".*quote.*|.*new\\nline.*"}');
      expect(stored.length).toBeGreaterThanOrEqual(2);

      const api = await (await fetch(`${exporter.url}/api/findings`)).text();
      expect(() => JSON.parse(api)).not.toThrow();
      const page = await (await fetch(`${exporter.url}/`)).text();
      expect(page).not.toContain('quote"d');
      expect(page).toContain('quote&#34;d');
      await stopProcess(prometheus.child);
    } finally {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 90_000);
});

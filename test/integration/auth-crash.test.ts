import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir } from '../helpers/cli.js';
import { parseExposition } from '../helpers/exposition.js';
import { stopProcess } from '../helpers/processes.js';

function failuresIn(exposition: string): number {
  return parseExposition(exposition)
    .filter((s) => s.name === 'hostguard_auth_failures_total')
    .reduce((sum, s) => sum + s.value, 0);
}

/**
 * kill -9 while following a log under load: what Prometheus saw of each run (its last scrape) adds
 * up to exactly the attempts written. The exporter saves its position with every scrape, so lines
 * a scrape exposed are never counted again and lines read after it are read again by the next run.
 */
describe('the auth collector killed with SIGKILL under load', () => {
  it('loses and double-counts nothing across three crashes, as Prometheus sees it', async () => {
    const dir = tempDir();
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const policy = join(dir, 'policy.yml');
    writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${log}\n      start_at: beginning\n`);
    const args = ['--state.dir', join(dir, 'state'), '--config.file', policy, '--collector.disable-defaults', '--collector.auth'];

    let written = 0;
    let writing = true;
    let seenByPrometheus = 0;
    let lastScrape = 0;
    // At most this many lines ahead of what Prometheus has seen: the writer never stops for long,
    // and a scrape (which reads everything written first) stays short on a loaded machine too.
    const maxAhead = 5000;
    const writer = (async () => {
      while (writing) {
        if (written - (seenByPrometheus + lastScrape) >= maxAhead) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const lines: string[] = [];
        for (let i = 0; i < 200; i++, written++)
          lines.push(
            `Nov 26 10:00:00 web-1 sshd[${10000 + (written % 50000)}]: Failed password for invalid user u${written} from 192.0.2.${written % 250} port 2222 ssh2`,
          );
        appendFileSync(log, lines.join('\n') + '\n');
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    try {
      for (let run = 0; run < 4; run++) {
        const exporter = await startExporter(args);
        lastScrape = 0;
        // Each run lasts a number of lines written and of scrapes, not a time: a slow machine runs longer.
        const until = written + 4000 + Math.floor(Math.random() * 2000);
        for (let scrapes = 0; written < until || scrapes < 3; scrapes++) {
          lastScrape = failuresIn(await (await fetch(`${exporter.url}/metrics`)).text());
          // Sometimes longer than a second between scrapes, as Prometheus scrapes: the position must not run ahead.
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 1500));
        }
        if (run === 3) {
          writing = false;
          await writer;
          // Everything written is read by the next scrape.
          lastScrape = failuresIn(await (await fetch(`${exporter.url}/metrics`)).text());
          seenByPrometheus += lastScrape;
          await stopProcess(exporter.child, 'SIGTERM');
        } else {
          seenByPrometheus += lastScrape;
          await stopProcess(exporter.child, 'SIGKILL');
        }
      }
    } finally {
      // Also when a run fails: the writer must not outlive the test's directory.
      writing = false;
      await writer;
    }
    expect(written).toBeGreaterThanOrEqual(16_000);
    expect(seenByPrometheus).toBe(written);
  }, 300_000);
});

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';
import { buildFleet, fleetBinary } from '../helpers/fleet-hosts.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('fleet facts of one host', () => {
  it("a hash per flagged executable and per unexpected listener's program, none for known ones, at most max_series with the rest counted", async () => {
    const dir = tempDir('hostguard-facts-');
    mkdirSync(join(dir, 'bin'));
    const binaries = ['a', 'b', 'c'].map((name) => fleetBinary(join(dir, 'bin', name), `implant ${name}`));
    const [host] = buildFleet(dir, 1, () =>
      binaries.map((exe, i) => ({ pid: 600 + i, comm: `implant-${i}`, exe, uid: 0, listens: i === 0 ? [4444] : [] })),
    );
    // The same policy, with room for two executables only.
    writeFileSync(
      host!.policy,
      readFileSync(host!.policy, 'utf8').replace(
        '  hidden_sweep: { enabled: false }\n',
        '  hidden_sweep: { enabled: false }\n  fleet_facts: { max_series: 2 }\n',
      ),
    );
    const exporter = await startExporter(host!.args);

    // The first collection flags them and queues their hashes; a later one has the facts.
    const first = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(
      sampleValue(first, 'hostguard_flagged_executables_unhashed', { metric: 'hostguard_flagged_executable_info', reason: 'pending' }),
    ).toBe(3);
    const text = await eventually(
      async () => {
        const now = await (await fetch(`${exporter.url}/metrics`)).text();
        return (
          sampleValue(now, 'hostguard_flagged_executables_unhashed', { metric: 'hostguard_flagged_executable_info', reason: 'pending' }) ===
            0 && now
        );
      },
      { intervalMs: 200, what: 'no hash pending' },
    );
    const facts = parseExposition(text).filter((s) => s.name === 'hostguard_flagged_executable_info');
    expect(facts).toHaveLength(2);
    for (const fact of facts) {
      expect(binaries.map(sha256)).toContain(fact.labels['sha256']);
      expect(fact.labels).toMatchObject({ exe: binaries[binaries.map(sha256).indexOf(fact.labels['sha256']!)], kind: 'writable_location' });
      expect(fact.value).toBe(1);
    }
    // systemd (PID 1) is packaged: known, so no fact, though it runs.
    expect(facts.map((f) => f.labels['exe'])).not.toContain('/usr/lib/systemd/systemd');
    expect(sampleValue(text, 'hostguard_finding_series_dropped', { metric: 'hostguard_flagged_executable_info' })).toBe(1);
    expect(
      parseExposition(text)
        .filter((s) => s.name === 'hostguard_flagged_listener_info')
        .map((s) => s.labels),
    ).toEqual([{ sha256: sha256(binaries[0]!), exe: binaries[0], protocol: 'tcp', port: '4444' }]);
  });
});

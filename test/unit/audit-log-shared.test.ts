import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SharedAuditLog } from '../../src/collectors/audit-log-shared.js';
import type { ExecEventsPolicy } from '../../src/config/sections/processes.js';
import { createLogger } from '../../src/log/logger.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

const quiet = createLogger({ level: 'error', format: 'logfmt', write: () => {} });
const capture = readFileSync(join(repoRoot, 'test', 'fixtures', 'kaudit', 'fim-enriched.log'), 'utf8');
/** The capture holds seven events of the watch rules' key. */
const capturedEvents = 7;

function logFile(): { policy: ExecEventsPolicy; stateDir: string } {
  const dir = tempDir('hostguard-shared-audit-');
  const path = join(dir, 'audit.log');
  writeFileSync(path, capture);
  return { policy: { source: 'auditd', path, rule_key: 'hostguard_exec', hold: 900, start_at: 'beginning' }, stateDir: join(dir, 'state') };
}

/** An exporter's shared log (a fresh one is a restart): the events of key hostguard_fim its users get, after reading to the end. */
async function fimEventsRead(
  shared: SharedAuditLog,
  policy: ExecEventsPolicy,
  users: readonly ('processes' | 'integrity')[],
): Promise<number> {
  let events = 0;
  for (const user of users) shared.use(user, policy).subscribe('hostguard_fim', () => events++);
  await shared.use(users[0]!, policy).catchUp(Date.now() + 30_000);
  return events / users.length;
}

describe('the audit log shared by the exec source and who-data', () => {
  it('is one reader, read once for both, running until its last user leaves', async () => {
    const { policy, stateDir } = logFile();
    const shared = new SharedAuditLog(stateDir, quiet);
    expect(shared.use('processes', policy)).toBe(shared.use('integrity', policy));
    expect(await fimEventsRead(shared, policy, ['processes', 'integrity'])).toBe(capturedEvents);
    await shared.release('processes', policy.path);
    let afterRelease = 0;
    const reader = shared.use('integrity', policy);
    reader.subscribe('hostguard_fim', () => afterRelease++);
    appendFileSync(policy.path, capture.replaceAll(':1253', ':9253'));
    await reader.catchUp(Date.now() + 30_000);
    expect(afterRelease).toBe(capturedEvents);
    await shared.release('integrity', policy.path);
  });

  it('saves its position only once every user has handled what was read: a restart reads again what one of them had not', async () => {
    const { policy, stateDir } = logFile();
    const first = new SharedAuditLog(stateDir, quiet);
    expect(await fimEventsRead(first, policy, ['processes', 'integrity'])).toBe(capturedEvents);
    first.checkpoint('processes', policy.path);
    await first.release('processes', policy.path);
    await first.release('integrity', policy.path);

    const second = new SharedAuditLog(stateDir, quiet);
    expect(await fimEventsRead(second, policy, ['processes', 'integrity'])).toBe(capturedEvents);
    second.checkpoint('integrity', policy.path);
    second.checkpoint('processes', policy.path);
    await second.release('processes', policy.path);
    await second.release('integrity', policy.path);

    const third = new SharedAuditLog(stateDir, quiet);
    expect(await fimEventsRead(third, policy, ['integrity'])).toBe(0);
    await third.release('integrity', policy.path);
  });
});

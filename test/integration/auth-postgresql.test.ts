import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExporter, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { parseExposition, sampleValue } from '../helpers/exposition.js';
import { spawnOwned, stopProcess } from '../helpers/processes.js';
import { freePort } from '../helpers/sockets.js';

/** The PostgreSQL server binaries of the Debian package (postgresql), any major version. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort().at(-1) : undefined;
  if (!version || !existsSync(join(root, version, 'bin', 'initdb')))
    throw new Error('PostgreSQL is not installed: run `apt-get install postgresql` (scripts/install-test-deps does it)');
  return join(root, version, 'bin');
}

function asPostgres(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> {
  return spawnSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', command, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  await eventually(check, { intervalMs: 100, timeoutMs: 90_000, what });
}

describe('a real PostgreSQL server, its log followed by the exporter', () => {
  it('counts its failed logins as service="postgresql", and a login after five of them as a guessed one', async () => {
    const bin = postgresBin();
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    const data = join(dir, 'data');
    const socket = join(dir, 'socket');
    const logDir = join(dir, 'log');
    for (const d of [data, socket, logDir]) {
      mkdirSync(d);
      chownSync(d, uid, gid);
    }
    const init = asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256']);
    expect(init.status, String(init.stderr)).toBe(0);
    const port = await freePort();
    // Debian's log_line_prefix, and log_connections as an operator who audits logins sets it.
    const server = spawnOwned('setpriv', [
      '--reuid=postgres',
      '--regid=postgres',
      '--init-groups',
      join(bin, 'postgres'),
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socket}`,
      '-c',
      'logging_collector=on',
      '-c',
      `log_directory=${logDir}`,
      '-c',
      'log_filename=postgresql.log',
      '-c',
      'log_line_prefix=%m [%p] %q%u@%d ',
      '-c',
      'log_connections=on',
    ]);
    try {
      await until(
        () => asPostgres(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]).status === 0,
        'PostgreSQL to accept connections',
      );
      const create = asPostgres('psql', [
        '-h',
        socket,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-c',
        "CREATE ROLE guest LOGIN PASSWORD 'correct horse'",
      ]);
      expect(create.status, String(create.stderr)).toBe(0);

      const log = join(logDir, 'postgresql.log');
      const policy = join(dir, 'policy.yml');
      writeFileSync(policy, `auth:\n  sources:\n    - type: file\n      path: ${log}\n      start_at: beginning\n`);
      const exporter = await startExporter([
        '--state.dir',
        join(dir, 'state'),
        '--config.file',
        policy,
        '--findings.show-details',
        '--collector.disable-defaults',
        '--collector.auth',
      ]);

      const login = (password: string) =>
        spawnSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'guest', '-d', 'postgres', '-c', 'SELECT 1'], {
          env: { ...process.env, PGPASSWORD: password },
          encoding: 'utf8',
        });
      for (let i = 0; i < 5; i++) expect(login('wrong').stderr).toContain('password authentication failed for user "guest"');
      expect(login('correct horse').status).toBe(0);
      await until(() => readFileSync(log, 'utf8').includes('connection authorized: user=guest'), 'the login in the log');

      const samples = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
      expect(
        sampleValue(samples, 'hostguard_auth_failures_total', { service: 'postgresql', reason: 'password', user_class: 'invalid' }),
      ).toBe(5);
      expect(
        sampleValue(samples, 'hostguard_auth_successes_total', { service: 'postgresql', method: 'password', user_class: 'invalid' }),
      ).toBe(1);
      expect(sampleValue(samples, 'hostguard_auth_success_after_failures_total', { service: 'postgresql' })).toBe(1);
      expect(sampleValue(samples, 'hostguard_auth_lines_unparsed_total', { source: log, reason: 'not_syslog' })).toBe(0);
      const doc = (await (await fetch(`${exporter.url}/api/findings`)).json()) as {
        findings: { kind: string; subject: Record<string, string> }[];
      };
      expect(doc.findings.filter((f) => f.kind === 'success_after_failures').map((f) => [f.subject.service, f.subject.user])).toEqual([
        ['postgresql', 'guest'],
      ]);
    } finally {
      // SIGINT: PostgreSQL's fast shutdown, which also ends its background processes.
      await stopProcess(server, 'SIGINT', 10_000);
    }
  }, 120_000);
});

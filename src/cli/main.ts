#!/usr/bin/env -S MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=0 node --max-semi-space-size=1 --optimize-for-size
// The resident set, measured in docs/benchmarks.md: a 1 MiB young generation; an old generation grown by
// 1.3× its live size rather than up to 4× (--optimize-for-size); one malloc arena, trimmed on every free.
import { Command, CommanderError } from 'commander';
import { PolicyError } from '../config/policy-error.js';
import { defaultPolicyYaml } from '../config/default-policy.js';
import { WebConfigError } from '../server/web-config-error.js';
import { StateDirError } from '../state/state-dir.js';
import { buildInfo } from '../version.js';
import { exitCodes, ListenError, UsageError } from './exit-codes.js';
import { exitOnUncaughtErrors } from './last-resort.js';
import { exitAfterOutput } from './standard-output.js';
import { addGlobalOptions, defaultListenAddress } from './options.js';

/** Each command loads its own modules when it runs: `check` and `--help` do not pay for the web server. */
function buildProgram(): Command {
  const build = buildInfo();
  const program = addGlobalOptions(new Command('hostguard-exporter'))
    .description(
      `Prometheus exporter for unauthorized activity on a Linux host: unknown processes, unexpected listeners, changed files and binaries, authentication failures. Serves on ${defaultListenAddress} by default.`,
    )
    .version(`hostguard-exporter ${build.version} (revision ${build.revision}, node ${process.version})`, '--version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('serve', { isDefault: true })
    .description('run the exporter (the default)')
    .argument('[unknown...]')
    .action(async (unknown: string[], _o, cmd: Command) => {
      // The default command receives whatever word was not a command: say so plainly.
      if (unknown.length > 0)
        throw new UsageError(
          `unknown command "${unknown[0]}"\nusage: hostguard-exporter [options] [serve|check|baseline|policy] (see --help)`,
        );
      finish(await (await import('./serve.js')).runServe(cmd));
    });

  program
    .command('check')
    .description('run every enabled collector once and print the findings; exit 0 none, 1 findings, 2 error')
    .option('--format <format>', 'table or json', parseChoice(['table', 'json']), 'table')
    .action(async (_o, cmd: Command) => finish(await (await import('./check.js')).runCheck(cmd)));

  const baseline = program.command('baseline').description('the learned known-good state of this host');
  baseline
    .command('init')
    .description('accept the current host as the baseline')
    .option('--force', 'replace an existing baseline')
    .action(baselineAction('init'));
  baseline
    .command('update')
    .description('accept the current host, replacing the sections of enabled collectors')
    .action(baselineAction('update'));
  baseline
    .command('show')
    .description('print the baseline summary and whether it verifies')
    .option('--format <format>', 'text or json', parseChoice(['text', 'json']), 'text')
    .action(baselineAction('show'));
  baseline
    .command('diff')
    .description('show what `update` would change; exit 0 none, 1 changes')
    .option('--format <format>', 'text or json', parseChoice(['text', 'json']), 'text')
    .action(baselineAction('diff'));

  program
    .command('auth')
    .description('auth log tools')
    .command('test')
    .description('classify every line of an auth log (stdin when FILE is absent or "-") and print counts, like fail2ban-regex')
    .argument('[file]', 'syslog or `journalctl -o json` lines')
    .option('--format <format>', 'table, or json: one object per matched line', parseChoice(['table', 'json']), 'table')
    .action(async (file: string | undefined, _o, cmd: Command) => finish(await (await import('./auth-test.js')).runAuthTest(file, cmd)));

  const policy = program.command('policy').description('the policy file');
  policy
    .command('default')
    .description('print the embedded default policy')
    .action(() => {
      process.stdout.write(defaultPolicyYaml);
    });

  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    command.exitOverride().showHelpAfterError('(run with --help for usage)');
  }
  return program;
}

function baselineAction(mode: 'init' | 'update' | 'show' | 'diff'): (options: unknown, command: Command) => Promise<void> {
  return async (_o, cmd) => finish(await (await import('./baseline.js')).runBaseline(mode, cmd));
}

function parseChoice(choices: string[]): (value: string) => string {
  return (value) => {
    if (!choices.includes(value)) throw new UsageError(`--format must be one of ${choices.join(', ')}, got "${value}"`);
    return value;
  };
}

let exitCode: number = exitCodes.ok;
function finish(code: number): void {
  exitCode = code;
}

/** Known, operator-fixable errors become one line on stderr and exit 2; anything else is a bug and keeps its stack. */
async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; help shown because a subcommand is missing (`baseline`) is an error.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.error;
    }
    if (
      error instanceof PolicyError ||
      error instanceof UsageError ||
      error instanceof StateDirError ||
      error instanceof WebConfigError ||
      error instanceof ListenError
    ) {
      process.stderr.write(`hostguard-exporter: ${error.message}\n`);
      return error instanceof ListenError ? 1 : exitCodes.error;
    }
    process.stderr.write(
      `hostguard-exporter: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return exitCodes.error;
  }
}

// libuv's pool starts with the first job that needs it, sized from this variable: eight threads, so
// that reads stuck on stalled processes (ProcessFiles holds at most half of them) leave four free.
process.env['UV_THREADPOOL_SIZE'] ??= '8';
exitOnUncaughtErrors();
main(process.argv).then((code) => {
  process.exitCode = code;
  // Background work (timers, watchers) must not keep a finished command alive; its output must reach a pipe.
  exitAfterOutput(code);
});

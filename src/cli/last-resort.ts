import { exitCodes } from './exit-codes.js';

/**
 * An exception nothing caught (a timer, a watcher, a signal handler) ends the process with exit 2
 * and its stack on stderr. Node's default would exit 1, which `check` uses for "findings".
 */
export function exitOnUncaughtErrors(): void {
  const fail = (kind: string) => (error: unknown) => {
    process.stderr.write(`hostguard-exporter: ${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(exitCodes.error);
  };
  process.on('uncaughtException', fail('uncaught exception'));
  process.on('unhandledRejection', fail('unhandled promise rejection'));
}

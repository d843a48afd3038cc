import { textOf, type ProcessFiles } from './process-files.js';

/** What /proc/PID/cmdline says about how a process presents itself in `ps`. */
export interface CommandLine {
  /** argv[0] as the process set it (up to the first NUL); '' when the command line is empty. */
  readonly argv0: string;
  /** No command line at all: `ps` then shows the process as `[comm]`, like a kernel thread. */
  readonly empty: boolean;
}

export function parseCmdline(text: string): CommandLine {
  const end = text.indexOf('\0');
  const argv0 = end === -1 ? text : text.slice(0, end);
  return { argv0, empty: text.length === 0 };
}

/** Every argument of a command line (NUL-separated, the last NUL optional); [] when empty. */
export function parseArguments(text: string): string[] {
  if (text.length === 0) return [];
  const args = text.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args;
}

/** All arguments of a process through ProcessFiles (cmdline takes the process's memory-map lock): off the event loop, under a deadline. */
export async function readArguments(files: ProcessFiles, pid: number): Promise<string[]> {
  return parseArguments(textOf(await files.read(pid, 'cmdline'), pid, 'cmdline'));
}

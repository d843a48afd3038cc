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

import { basename, isAbsolute, join, normalize } from 'node:path/posix';
import { firstMatch, type PathMatcher } from '../match/glob.js';

/**
 * What a process runs beyond its executable, read from its arguments: the script an interpreter
 * runs, code it was handed inline or on stdin, the program the dynamic loader runs. Pure: the
 * arguments and the working directory are given (from /proc, or from an exec's audit records).
 */
export type RunTarget =
  /** Nothing beyond the executable: no interpreter or loader, or one that runs no file (`python3 -m pip`, `--version`). */
  | { readonly kind: 'none' }
  /** A file an interpreter runs (`bash /tmp/x.sh`, a #! script) or the loader runs (`ld-linux-x86-64.so.2 /tmp/x`). */
  | {
      readonly kind: 'script' | 'loaded';
      readonly runner: string;
      /** Absolute, or relative when no working directory was given to resolve it. */
      readonly path: string;
      /** Named relative to the working directory, which a process can change after it started. */
      readonly relative: boolean;
    }
  /** Code given in an argument (`sh -c`, `python3 -c`, `perl -e`, an awk program) or on stdin (`curl … | sh`). */
  | { readonly kind: 'inline'; readonly runner: string; readonly via: 'argument' | 'stdin' };

const nothing: RunTarget = { kind: 'none' };

/** Basenames of the dynamic loader, whose first operand is the program it loads and runs. */
const loaderNames = ['ld-linux*.so*', 'ld64.so*', 'ld-musl*', 'ld.so*'].map(
  (g) => new RegExp(`^${g.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`),
);

export function isLoader(exe: string): boolean {
  const name = basename(exe);
  return loaderNames.some((r) => r.test(name));
}

/** How an interpreter family reads its options: which take an argument, which hand it code or a file. */
interface OptionGrammar {
  /** Short options taking an argument: the rest of their cluster, or the next word. */
  readonly withArgument: string;
  /** Of those, the ones whose argument is code (`-c`, `-e`). */
  readonly inlineArgument: string;
  /** Of those, the ones whose argument is the script file (`awk -f`, `php -f`). */
  readonly fileArgument: string;
  /** Of those, the ones that run a module rather than a file (`python3 -m`): nothing beyond the executable. */
  readonly moduleArgument: string;
  /** Short options that take the rest of their cluster only, never the next word (`perl -i.bak`). */
  readonly attachedOnly: string;
  /** Short flags after which the first operand is code (`sh -c 'cmd'`). */
  readonly inlineFlag: string;
  /** Short flags that make stdin the code and every operand an argument (`sh -s`). */
  readonly stdinFlag: string;
  /** Long options that take the next word when not written `--opt=value`. */
  readonly longWithArgument: ReadonlySet<string>;
  readonly longInline: ReadonlySet<string>;
  readonly longFile: ReadonlySet<string>;
  /** Long options after which nothing runs (`--version`, `--help`). */
  readonly longNothing: ReadonlySet<string>;
  /** awk: without a program file, the first operand is the program text. */
  readonly firstOperandIsCode?: boolean;
  /** No operand at all: code is read from stdin (sh, python) — not for awk, which needs a program. */
  readonly stdinWithoutOperand: boolean;
}

function grammar(g: Partial<OptionGrammar>): OptionGrammar {
  return {
    withArgument: '',
    inlineArgument: '',
    fileArgument: '',
    moduleArgument: '',
    attachedOnly: '',
    inlineFlag: '',
    stdinFlag: '',
    longWithArgument: new Set(),
    longInline: new Set(),
    longFile: new Set(),
    longNothing: new Set(['version', 'help']),
    stdinWithoutOperand: true,
    ...g,
  };
}

const shell = grammar({ withArgument: 'oO', inlineFlag: 'c', stdinFlag: 's', longWithArgument: new Set(['rcfile', 'init-file']) });
const cShell = grammar({ withArgument: 'c', inlineArgument: 'c' });
const fish = grammar({
  withArgument: 'cCdof',
  inlineArgument: 'c',
  longWithArgument: new Set(['command', 'init-command', 'debug', 'debug-output', 'features']),
  longInline: new Set(['command']),
});
const python = grammar({
  withArgument: 'cmWXQ',
  inlineArgument: 'c',
  moduleArgument: 'm',
  longWithArgument: new Set(['check-hash-based-pycs']),
});
const perl = grammar({ withArgument: 'eEI', inlineArgument: 'eE', attachedOnly: '0CdDilmMxVF' });
const ruby = grammar({
  withArgument: 'eICrE',
  inlineArgument: 'e',
  attachedOnly: '0FiKTWx',
  longWithArgument: new Set(['encoding', 'external-encoding', 'internal-encoding']),
});
const php = grammar({ withArgument: 'cdfrzBRFESt', inlineArgument: 'rBRE', fileArgument: 'fF', moduleArgument: 'S' });
const node = grammar({
  withArgument: 'eprC',
  inlineArgument: 'ep',
  longWithArgument: new Set([
    'eval',
    'print',
    'require',
    'import',
    'loader',
    'experimental-loader',
    'conditions',
    'input-type',
    'title',
    'env-file',
    'redirect-warnings',
    'icu-data-dir',
    'openssl-config',
    'disable-warning',
    'inspect-port',
    'dns-result-order',
    'unhandled-rejections',
    'experimental-default-type',
    'diagnostic-dir',
    'report-dir',
    'report-filename',
    'report-signal',
    'heapsnapshot-signal',
    'cpu-prof-dir',
    'heap-prof-dir',
    'watch-path',
  ]),
  longInline: new Set(['eval', 'print']),
});
const lua = grammar({ withArgument: 'el', inlineArgument: 'e' });
const awk = grammar({
  withArgument: 'fFvEilWe',
  inlineArgument: 'e',
  fileArgument: 'fE',
  longWithArgument: new Set(['file', 'source', 'field-separator', 'assign', 'include', 'load', 'exec']),
  longInline: new Set(['source']),
  longFile: new Set(['file', 'exec']),
  firstOperandIsCode: true,
  stdinWithoutOperand: false,
});
const tcl = grammar({ longWithArgument: new Set(['encoding']) });
const expect = grammar({ withArgument: 'cfD', inlineArgument: 'c', fileArgument: 'f' });
/** An interpreter the operator added to the list: flags only, `-c` and `-e` hand it code. */
const generic = grammar({ withArgument: 'ce', inlineArgument: 'ce' });

const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ksh93', 'mksh', 'lksh', 'pdksh', 'ash', 'hush', 'posh', 'yash', 'rbash']);

/** The grammar of an interpreter by its name (the executable's basename, or busybox's applet). */
function grammarOf(name: string): OptionGrammar {
  if (shells.has(name)) return shell;
  if (name === 'csh' || name === 'tcsh') return cShell;
  if (name === 'fish') return fish;
  if (/^python[0-9.]*$/.test(name) || name === 'pypy' || name === 'pypy3') return python;
  if (/^perl[0-9.]*$/.test(name)) return perl;
  if (/^ruby[0-9.]*$/.test(name)) return ruby;
  if (/^php[0-9.]*$/.test(name)) return php;
  if (name === 'node' || name === 'nodejs') return node;
  if (/^lua(jit)?[0-9.]*$/.test(name)) return lua;
  if (/^[gmn]?awk$/.test(name)) return awk;
  if (/^tclsh[0-9.]*$/.test(name) || /^wish[0-9.]*$/.test(name)) return tcl;
  if (name === 'expect') return expect;
  return generic;
}

/** busybox's applets that interpret code: run as `busybox sh …`, or through a link named after the applet. */
const busyboxInterpreters = new Set(['sh', 'ash', 'hush', 'bash', 'awk']);

/**
 * What the process runs. `exe`: its executable; `argv`: all its arguments, argv[0] included; `cwd`:
 * the directory relative script paths are resolved against (undefined: they stay relative).
 * `interpreters`: the policy's globs on the executable's basename (processes.interpreters).
 */
export function whatRuns(exe: string, argv: readonly string[], cwd: string | undefined, interpreters: readonly PathMatcher[]): RunTarget {
  if (isLoader(exe)) return loadedProgram(exe, argv, cwd);
  let name = basename(exe);
  if (firstMatch(interpreters, name) === -1) return nothing;
  let args = argv.slice(1);
  if (name === 'busybox') {
    const applet = basename(argv[0] ?? '');
    if (applet === 'busybox' || applet === '') {
      name = args[0] ?? '';
      args = args.slice(1);
    } else name = applet;
    if (!busyboxInterpreters.has(name)) return nothing;
  }
  return interpreted(exe, grammarOf(name), args, cwd);
}

function interpreted(runner: string, g: OptionGrammar, args: readonly string[], cwd: string | undefined): RunTarget {
  let inlineOperand = false;
  let fromStdin = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return operand(runner, g, args[i + 1], cwd, inlineOperand, fromStdin);
    if (arg === '-')
      return fromStdin || !inlineOperand ? { kind: 'inline', runner, via: 'stdin' } : { kind: 'inline', runner, via: 'argument' };
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const option = arg.slice(2, eq === -1 ? undefined : eq);
      const value = eq === -1 ? args[i + 1] : arg.slice(eq + 1);
      if (g.longNothing.has(option)) return nothing;
      if (g.longInline.has(option)) return { kind: 'inline', runner, via: 'argument' };
      if (g.longFile.has(option)) return value === undefined ? nothing : file('script', runner, value, cwd);
      if (eq === -1 && g.longWithArgument.has(option)) i++;
      continue;
    }
    if (arg.length > 1 && (arg[0] === '-' || (arg[0] === '+' && g === shell))) {
      // A cluster of short options: `-Es`, `-ne`, `-Wignore`, `-ec`.
      for (let k = 1; k < arg.length; k++) {
        const c = arg[k]!;
        if (g.attachedOnly.includes(c)) break;
        if (g.inlineFlag.includes(c)) inlineOperand = true;
        if (g.stdinFlag.includes(c)) fromStdin = true;
        if (!g.withArgument.includes(c)) continue;
        const attached = arg.slice(k + 1);
        const value = attached !== '' ? attached : args[i + 1];
        if (attached === '') i++;
        if (g.inlineArgument.includes(c)) return { kind: 'inline', runner, via: 'argument' };
        if (g.moduleArgument.includes(c)) return nothing;
        if (g.fileArgument.includes(c)) return value === undefined ? nothing : file('script', runner, value, cwd);
        break;
      }
      continue;
    }
    return operand(runner, g, arg, cwd, inlineOperand, fromStdin);
  }
  if (inlineOperand) return { kind: 'inline', runner, via: 'argument' };
  return g.stdinWithoutOperand ? { kind: 'inline', runner, via: 'stdin' } : nothing;
}

function operand(
  runner: string,
  g: OptionGrammar,
  arg: string | undefined,
  cwd: string | undefined,
  inlineOperand: boolean,
  fromStdin: boolean,
): RunTarget {
  if (fromStdin) return { kind: 'inline', runner, via: 'stdin' };
  if (inlineOperand || g.firstOperandIsCode) return { kind: 'inline', runner, via: 'argument' };
  if (arg === undefined) return g.stdinWithoutOperand ? { kind: 'inline', runner, via: 'stdin' } : nothing;
  return file('script', runner, arg, cwd);
}

/** ld.so's options (glibc and musl): those taking an argument, and those after which nothing runs. */
const loaderWithArgument = new Set([
  'library-path',
  'inhibit-rpath',
  'audit',
  'preload',
  'argv0',
  'glibc-hwcaps-prepend',
  'glibc-hwcaps-mask',
]);
const loaderRunsNothing = new Set(['list', 'verify', 'help', 'version', 'list-tunables', 'list-diagnostics']);

function loadedProgram(runner: string, argv: readonly string[], cwd: string | undefined): RunTarget {
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1] === undefined ? nothing : file('loaded', runner, argv[i + 1]!, cwd);
    if (!arg.startsWith('--')) return file('loaded', runner, arg, cwd);
    const eq = arg.indexOf('=');
    const option = arg.slice(2, eq === -1 ? undefined : eq);
    if (loaderRunsNothing.has(option)) return nothing;
    if (eq === -1 && loaderWithArgument.has(option)) i++;
  }
  return nothing;
}

/** A script read through a descriptor (`bash <(curl …)`, /dev/stdin): code piped in, as on stdin. */
const descriptorPath = /^\/(dev\/(fd\/\d+|stdin)|proc\/(self|\d+)\/fd\/\d+)$/;

function file(kind: 'script' | 'loaded', runner: string, path: string, cwd: string | undefined): RunTarget {
  if (path === '') return nothing;
  if (kind === 'script' && descriptorPath.test(path)) return { kind: 'inline', runner, via: 'stdin' };
  if (isAbsolute(path)) return { kind, runner, path: normalize(path), relative: false };
  return { kind, runner, path: cwd === undefined ? path : normalize(join(cwd, path)), relative: true };
}

/** The interpreter's name for the inline-code counter: its basename (a bounded set: what is installed). */
export function runnerName(runner: string): string {
  return basename(runner);
}

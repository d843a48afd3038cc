import {
  authPatterns,
  authServices,
  failureMethodLabel,
  methodLabel,
  selfLoggingPamServices,
  serviceOfPamName,
  servicePrograms,
  serviceProgramPrefixes,
  type AttemptRole,
  type AuthPattern,
  type AuthService,
  type FailureReason,
  type SuccessMethod,
} from './patterns.js';

/** One message recognised by a pattern, with what it says in bounded terms (the user name stays unbounded). */
export interface Classification {
  readonly pattern: AuthPattern;
  /** Position of the pattern in authPatterns. */
  readonly patternIndex: number;
  readonly service: AuthService;
  readonly role: AttemptRole;
  readonly reason: FailureReason | undefined;
  readonly method: SuccessMethod | undefined;
  readonly user: string | undefined;
  /** The client's address as the line gives it, without an IPv4 port or the `::ffff:` of a mapped IPv4 address. */
  readonly address: string | undefined;
  /** The count the message states (sudo's "3 incorrect password attempts"), else 1. */
  readonly count: number;
  /** How many identical messages this line stands for (syslog's "message repeated N times"). */
  readonly repeat: number;
}

type GroupName = 'user' | 'user2' | 'user3' | 'addr' | 'addr2' | 'count' | 'method' | 'pamservice' | 'root';

/**
 * A pattern as matched: the table keeps named groups for the reader; they are compiled to numbered
 * ones, because a named-group match allocates a `groups` object on every line.
 */
interface CompiledPattern {
  readonly pattern: AuthPattern;
  readonly index: number;
  readonly regex: RegExp;
  readonly groups: Readonly<Partial<Record<GroupName, number>>>;
}

function compile(pattern: AuthPattern, index: number): CompiledPattern {
  const groups: Partial<Record<GroupName, number>> = {};
  let n = 0;
  // Escapes and character classes are copied as they are: a '(' inside them opens no group.
  const source = pattern.regex.source.replace(/\\.|\[(?:\\.|[^\]\\])*\]|\((\?<([A-Za-z0-9]+)>|\?)?/g, (token: string, special: string | undefined, name: string | undefined) => {
    if (!token.startsWith('(')) return token;
    if (special === undefined) n++;
    else if (name !== undefined) {
      n++;
      groups[name as GroupName] = n;
      return '(';
    }
    return token;
  });
  return { pattern, index, regex: new RegExp(source, pattern.regex.flags), groups };
}

/**
 * A pattern list indexed by the first character its prefixes allow, keeping the table's order, so
 * a line is tried against the two or three patterns that can match rather than all of them.
 */
class PatternIndex {
  private readonly byFirst = new Map<string, readonly CompiledPattern[]>();
  private readonly unprefixed: readonly CompiledPattern[];

  constructor(patterns: readonly CompiledPattern[]) {
    const prefixesOf = (c: CompiledPattern) => (c.pattern.prefix === undefined ? undefined : typeof c.pattern.prefix === 'string' ? [c.pattern.prefix] : c.pattern.prefix);
    this.unprefixed = patterns.filter((c) => prefixesOf(c) === undefined);
    const firsts = new Set(patterns.flatMap((c) => (prefixesOf(c) ?? []).map((p) => p[0]!)));
    for (const first of firsts) {
      this.byFirst.set(first, patterns.filter((c) => prefixesOf(c)?.some((p) => p.startsWith(first)) ?? true));
    }
  }

  candidates(message: string): readonly CompiledPattern[] {
    return this.byFirst.get(message.charAt(0)) ?? this.unprefixed;
  }
}

const compiled = authPatterns.map(compile);
const pamPatterns = new PatternIndex(compiled.filter((c) => c.pattern.service === 'pam'));
const serviceIndex = new Map(authServices.map((s) => [s, new PatternIndex(compiled.filter((c) => c.pattern.service === s))]));
/** A program several services log as (imapd: Courier and Cyrus; '': exim, PostgreSQL, OpenVPN) gets their patterns together, in table order. */
const patternsByProgram = new Map<string, PatternIndex>();
for (const program of new Set(Object.values(servicePrograms).flat())) {
  const services = new Set(authServices.filter((s) => servicePrograms[s].includes(program)));
  patternsByProgram.set(program, new PatternIndex(compiled.filter((c) => c.pattern.service !== 'pam' && services.has(c.pattern.service))));
}

let lastProgram = '';
let lastIndex: PatternIndex | undefined = patternsByProgram.get('');

/** The patterns of a program; the last answer is kept, since runs of lines come from one program. */
function indexOfProgram(program: string): PatternIndex | undefined {
  if (program === lastProgram) return lastIndex;
  let index = patternsByProgram.get(program);
  if (!index) for (const [prefix, service] of serviceProgramPrefixes) if (program.startsWith(prefix)) index = serviceIndex.get(service);
  lastProgram = program;
  lastIndex = index;
  return index;
}

const repeated = /^message repeated (\d+) times: \[ ?(.*?) ?\]$/;
const maxRepeat = 1_000_000;

/** Classify one message of `program`; undefined when no pattern matches (ordinary log noise). */
export function classifyMessage(program: string, message: string): Classification | undefined {
  if (message.charCodeAt(0) === 109 /* m */ && message.startsWith('message repeated ')) {
    const m = repeated.exec(message);
    if (!m) return undefined;
    const inner = classifyOnce(program, m[2]!);
    return inner ? { ...inner, repeat: Math.min(Number(m[1]), maxRepeat) } : undefined;
  }
  return classifyOnce(program, message);
}

function classifyOnce(program: string, message: string): Classification | undefined {
  // PAM lines look alike whoever logs them; no program's own pattern starts with "pam_".
  const index = message.charCodeAt(0) === 112 /* p */ && message.startsWith('pam_') ? pamPatterns : indexOfProgram(program);
  if (!index) return undefined;
  for (const c of index.candidates(message)) {
    const pattern = c.pattern;
    if (pattern.prefix !== undefined && !startsWithAny(message, pattern.prefix)) continue;
    if (pattern.contains !== undefined && !containsAny(message, pattern.contains)) continue;
    const match = c.regex.exec(message);
    if (match) return fromMatch(c, match, message);
  }
  return undefined;
}

function fromMatch(c: CompiledPattern, match: RegExpExecArray, message: string): Classification {
  const pattern = c.pattern;
  const g = c.groups;
  let service: AuthService;
  let role = pattern.role;
  let user = group(match, g.user) ?? group(match, g.user2) ?? group(match, g.user3);
  let address = group(match, g.addr) ?? group(match, g.addr2);
  if (pattern.service === 'pam') {
    service = serviceOfPamName(group(match, g.pamservice) ?? '');
    // sshd, sudo, su and login log each attempt themselves: their PAM lines only repeat it.
    if (selfLoggingPamServices.has(service)) role = 'echo';
  } else service = pattern.service;
  if (user === undefined && address === undefined && message.includes(' rhost=')) {
    user = pamField(message, ' user=');
    address = pamField(message, ' rhost=');
  }
  if (group(match, g.root) !== undefined) user ??= 'root';
  if (pattern.reason === 'root_refused') user ??= 'root';
  const method = group(match, g.method);
  const count = group(match, g.count);
  return {
    pattern,
    patternIndex: c.index,
    service,
    role,
    reason: pattern.reason === 'method' ? failureMethodLabel(method ?? '') : pattern.reason,
    method: pattern.method === 'method' ? methodLabel(method ?? '') : pattern.method,
    user: user === '' ? undefined : user,
    address: address === '' || address === undefined ? undefined : clientAddress(address),
    count: count !== undefined && pattern.role === 'attempt' ? Math.min(Number(count), maxRepeat) : 1,
    repeat: 1,
  };
}

/** `::ffff:192.0.2.1` and `192.0.2.1:4567` are 192.0.2.1; anything else stays as written. */
export function clientAddress(address: string): string {
  let a = address;
  if (a.indexOf(':') < 0) return a;
  if (a.charCodeAt(0) === 58 /* : */ && a.startsWith('::ffff:') && a.indexOf('.') > 0) a = a.slice(7);
  const colon = a.lastIndexOf(':');
  if (colon > 0 && a.indexOf(':') === colon && a.indexOf('.') > 0) a = a.slice(0, colon);
  return a;
}

function group(match: RegExpExecArray, at: number | undefined): string | undefined {
  return at === undefined ? undefined : match[at];
}

function containsAny(message: string, needle: string | readonly string[]): boolean {
  if (typeof needle === 'string') return message.includes(needle);
  for (const n of needle) if (message.includes(n)) return true;
  return false;
}

function startsWithAny(message: string, prefix: string | readonly string[]): boolean {
  if (typeof prefix === 'string') return message.startsWith(prefix);
  for (const p of prefix) if (message.startsWith(p)) return true;
  return false;
}

/** A `key=value` field of a PAM line (values never contain spaces). */
function pamField(message: string, key: string): string | undefined {
  const at = message.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = message.indexOf(' ', start);
  const value = message.slice(start, end < 0 ? message.length : end);
  return value === '' ? undefined : value;
}

import {
  authPatterns,
  failureMethodLabel,
  methodLabel,
  programPatterns,
  serviceOfPamName,
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
  readonly address: string | undefined;
  /** The count the message states (sudo's "3 incorrect password attempts"), else 1. */
  readonly count: number;
  /** How many identical messages this line stands for (syslog's "message repeated N times"). */
  readonly repeat: number;
}

type GroupName = 'user' | 'user2' | 'addr' | 'addr2' | 'count' | 'method' | 'pamservice' | 'root';

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
  const source = pattern.regex.source.replace(/\\.|\((\?<([A-Za-z0-9]+)>|\?)?/g, (token: string, special: string | undefined, name: string | undefined) => {
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

const compiled = authPatterns.map(compile);
const pamPatterns = compiled.filter((c) => c.pattern.service === 'pam');
const patternsByProgram = new Map<string, readonly CompiledPattern[]>();
for (const [service, programs] of Object.entries(programPatterns)) {
  const own = compiled.filter((c) => c.pattern.service === service);
  for (const program of programs) patternsByProgram.set(program, own);
}

const repeated = /^message repeated (\d+) times: \[ ?(.*?) ?\]$/;
const maxRepeat = 1_000_000;

/** Classify one message of `program`; undefined when no pattern matches (ordinary log noise). */
export function classifyMessage(program: string, message: string): Classification | undefined {
  if (message.startsWith('message repeated ')) {
    const m = repeated.exec(message);
    if (!m) return undefined;
    const inner = classifyOnce(program, m[2]!);
    return inner ? { ...inner, repeat: Math.min(Number(m[1]), maxRepeat) } : undefined;
  }
  return classifyOnce(program, message);
}

function classifyOnce(program: string, message: string): Classification | undefined {
  // PAM lines look alike whoever logs them; no program's own pattern starts with "pam_".
  const patterns = message.startsWith('pam_') ? pamPatterns : patternsByProgram.get(program);
  if (!patterns) return undefined;
  for (const c of patterns) {
    const pattern = c.pattern;
    if (pattern.prefix !== undefined && !startsWithAny(message, pattern.prefix)) continue;
    if (pattern.contains !== undefined && !message.includes(pattern.contains)) continue;
    const match = c.regex.exec(message);
    if (match) return fromMatch(c, match, message);
  }
  return undefined;
}

function fromMatch(c: CompiledPattern, match: RegExpExecArray, message: string): Classification {
  const pattern = c.pattern;
  const group = (name: GroupName): string | undefined => {
    const at = c.groups[name];
    return at === undefined ? undefined : match[at];
  };
  let service: AuthService;
  let role = pattern.role;
  let user = group('user') ?? group('user2');
  let address = group('addr') ?? group('addr2');
  if (pattern.service === 'pam') {
    service = serviceOfPamName(group('pamservice') ?? '');
    // sshd, sudo, su and login log each attempt themselves: their PAM lines only repeat it.
    if (service !== 'other') role = 'echo';
  } else service = pattern.service;
  if (user === undefined && address === undefined && message.includes(' rhost=')) {
    user = pamField(message, ' user=');
    address = pamField(message, ' rhost=');
  }
  if (group('root') !== undefined) user ??= 'root';
  if (pattern.name === 'sshd_root_refused') user = 'root';
  const method = group('method');
  const count = group('count');
  return {
    pattern,
    patternIndex: c.index,
    service,
    role,
    reason: pattern.reason === 'method' ? failureMethodLabel(method ?? '') : pattern.reason,
    method: pattern.method === 'method' ? methodLabel(method ?? '') : pattern.method,
    user: user === '' ? undefined : user,
    address: address === '' ? undefined : address,
    count: count !== undefined && pattern.role === 'attempt' ? Math.min(Number(count), maxRepeat) : 1,
    repeat: 1,
  };
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

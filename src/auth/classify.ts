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

const pamPatterns = authPatterns.filter((p) => p.service === 'pam');
const patternsByProgram = new Map<string, readonly AuthPattern[]>();
for (const [service, programs] of Object.entries(programPatterns)) {
  const own = authPatterns.filter((p) => p.service === service);
  for (const program of programs) patternsByProgram.set(program, [...own, ...pamPatterns]);
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
  const patterns = patternsByProgram.get(program) ?? (message.startsWith('pam_') ? pamPatterns : undefined);
  if (!patterns) return undefined;
  for (const pattern of patterns) {
    if (pattern.prefix !== undefined && !message.startsWith(pattern.prefix)) continue;
    if (pattern.contains !== undefined && !message.includes(pattern.contains)) continue;
    const match = pattern.regex.exec(message);
    if (match) return fromMatch(pattern, match.groups ?? {}, message);
  }
  return undefined;
}

function fromMatch(pattern: AuthPattern, groups: Record<string, string | undefined>, message: string): Classification {
  let service: AuthService;
  let role = pattern.role;
  let user = groups.user ?? groups.user2;
  let address = groups.addr ?? groups.addr2;
  if (pattern.service === 'pam') {
    service = serviceOfPamName(groups.pamservice ?? '');
    // sshd, sudo, su and login log each attempt themselves: their PAM lines only repeat it.
    if (service !== 'other') role = 'echo';
  } else service = pattern.service;
  if (user === undefined && address === undefined && message.includes(' rhost=')) {
    user = pamField(message, ' user=');
    address = pamField(message, ' rhost=');
  }
  if (groups.root !== undefined) user ??= 'root';
  if (pattern.name === 'sshd_root_refused') user = 'root';
  const method = groups.method;
  return {
    pattern,
    service,
    role,
    reason: pattern.reason === 'method' ? failureMethodLabel(method ?? '') : pattern.reason,
    method: pattern.method === 'method' ? methodLabel(method ?? '') : pattern.method,
    user: user === '' ? undefined : user,
    address: address === '' ? undefined : address,
    count: groups.count !== undefined && pattern.role === 'attempt' ? Math.min(Number(groups.count), maxRepeat) : 1,
    repeat: 1,
  };
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

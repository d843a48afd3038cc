import { detach } from './detach.js';
import {
  authPatterns,
  authServices,
  failureMethodLabel,
  failureReasons,
  successMethods,
  methodLabel,
  selfLoggingPamServices,
  serviceOfPamName,
  servicePrograms,
  serviceProgramPrefixes,
  type AttemptRole,
  type AuthPattern,
  type AuthService,
  type FailureReason,
  type PatternOutcome,
  type SuccessMethod,
} from './patterns.js';

/** One message recognised by a pattern, with what it says in bounded terms (the user name stays unbounded). */
export interface Classification {
  readonly pattern: AuthPattern;
  /** Position of the pattern in authPatterns. */
  readonly patternIndex: number;
  readonly service: AuthService;
  readonly outcome: PatternOutcome;
  readonly role: AttemptRole;
  readonly reason: FailureReason | undefined;
  readonly method: SuccessMethod | undefined;
  /** Positions of service, reason and method in authServices, failureReasons and successMethods (-1: none), for the counters' arrays. */
  readonly serviceIndex: number;
  readonly reasonIndex: number;
  readonly methodIndex: number;
  readonly user: string | undefined;
  /** The client's address as the line gives it, without an IPv4 port or the `::ffff:` of a mapped IPv4 address. */
  readonly address: string | undefined;
  /** The count the message states (sudo's "3 incorrect password attempts"), else 1. */
  readonly count: number;
  /** How many identical messages this line stands for (syslog's "message repeated N times"). */
  readonly repeat: number;
  /** False when the line was only tested (user, address and count not read): classify it with fields to have them. */
  readonly complete: boolean;
}

type GroupName = 'user' | 'user2' | 'user3' | 'addr' | 'addr2' | 'count' | 'method' | 'pamservice' | 'root';

/**
 * A pattern as matched: the table keeps named groups for the reader; they are compiled to numbered
 * ones, because a named-group match allocates a `groups` object on every line. Every compiled
 * pattern has the same shape (prefixes and needles always arrays, every group present), so the hot
 * loop's property reads stay monomorphic.
 */
interface CompiledPattern {
  readonly pattern: AuthPattern;
  readonly index: number;
  readonly regex: RegExp;
  readonly prefixes: readonly string[] | null;
  /** Of each prefix: its second character, the position of its last one, and that last one (see startsWithAny). */
  readonly prefixSeconds: readonly number[];
  readonly prefixEnds: readonly number[];
  readonly prefixLasts: readonly number[];
  readonly needles: readonly string[] | null;
  readonly groups: Readonly<Record<GroupName, number>>;
  readonly service: AuthService | 'pam';
  readonly outcome: PatternOutcome;
  readonly role: AttemptRole;
  readonly reason: FailureReason | 'method' | null;
  readonly method: SuccessMethod | 'method' | null;
  /** The count group is the line's number of attempts. */
  readonly counts: boolean;
  /**
   * Counting reads nothing but the pattern of such a line, or reads its fields only once in a
   * while: a notice, an echo of a fixed service, a disconnect that counts only when its connection
   * counted nothing. Without `fields` it is tested, not matched.
   */
  readonly fieldless: boolean;
  /** Positions of a fixed service, reason and method in their lists (-1: none, or taken from the line). */
  readonly serviceIndex: number;
  readonly reasonIndex: number;
  readonly methodIndex: number;
}

const groupNames: readonly GroupName[] = ['user', 'user2', 'user3', 'addr', 'addr2', 'count', 'method', 'pamservice', 'root'];

function compile(pattern: AuthPattern, index: number): CompiledPattern {
  if (pattern.prefix !== undefined && !pattern.regex.source.startsWith('^'))
    throw new Error(`pattern ${pattern.name}: a prefix needs a regex anchored with ^, which spells it out`);
  const groups = Object.fromEntries(groupNames.map((name) => [name, 0])) as Record<GroupName, number>;
  let n = 0;
  // Escapes and character classes are copied as they are: a '(' inside them opens no group.
  const source = pattern.regex.source.replace(
    /\\.|\[(?:\\.|[^\]\\])*\]|\((\?<([A-Za-z0-9]+)>|\?)?/g,
    (token: string, special: string | undefined, name: string | undefined) => {
      if (!token.startsWith('(')) return token;
      if (special === undefined) n++;
      else if (name !== undefined) {
        if (!groupNames.includes(name as GroupName)) throw new Error(`pattern ${pattern.name}: unknown group ${name}`);
        n++;
        groups[name as GroupName] = n;
        return '(';
      }
      return token;
    },
  );
  const list = (value: string | readonly string[] | undefined) =>
    value === undefined ? null : typeof value === 'string' ? [value] : value;
  const prefixes = list(pattern.prefix);
  return {
    pattern,
    index,
    regex: new RegExp(source, pattern.regex.flags),
    prefixes,
    prefixSeconds: (prefixes ?? []).map((p) => p.charCodeAt(1)),
    prefixEnds: (prefixes ?? []).map((p) => p.length - 1),
    prefixLasts: (prefixes ?? []).map((p) => p.charCodeAt(p.length - 1)),
    needles: list(pattern.contains),
    groups,
    service: pattern.service,
    outcome: pattern.outcome,
    role: pattern.role,
    reason: pattern.reason ?? null,
    method: pattern.method ?? null,
    counts: pattern.role === 'attempt' && groups.count !== 0,
    fieldless: pattern.service !== 'pam' && (pattern.outcome === 'notice' || pattern.role === 'echo' || pattern.role === 'closes'),
    serviceIndex: pattern.service === 'pam' ? -1 : authServices.indexOf(pattern.service),
    reasonIndex: pattern.reason === undefined || pattern.reason === 'method' ? -1 : failureReasons.indexOf(pattern.reason),
    methodIndex: pattern.method === undefined || pattern.method === 'method' ? -1 : successMethods.indexOf(pattern.method),
  };
}

/**
 * A pattern list indexed by the first character its prefixes allow (ASCII), keeping the table's
 * order, so a line is tried against the two or three patterns that can match rather than all of them.
 */
class PatternIndex {
  private readonly byCode: (readonly CompiledPattern[] | undefined)[] = new Array<readonly CompiledPattern[] | undefined>(128).fill(
    undefined,
  );
  private readonly unprefixed: readonly CompiledPattern[];

  constructor(patterns: readonly CompiledPattern[]) {
    this.unprefixed = patterns.filter((c) => c.prefixes === null);
    const firsts = new Set(patterns.flatMap((c) => (c.prefixes ?? []).map((p) => p.charCodeAt(0))));
    for (const first of firsts) {
      if (first < 128) this.byCode[first] = patterns.filter((c) => c.prefixes?.some((p) => p.charCodeAt(0) === first) ?? true);
    }
  }

  candidates(message: string): readonly CompiledPattern[] {
    const code = message.charCodeAt(0);
    return (code < 128 ? this.byCode[code] : undefined) ?? this.unprefixed;
  }
}

const compiled = authPatterns.map(compile);
const serviceIndexOf = new Map(authServices.map((s, i) => [s, i]));

/** What a method word of sshd's (`password`, `keyboard-interactive/pam`, ...) becomes, as failure reason and as login method, with their positions: one lookup per line. */
interface MethodLabels {
  readonly reason: FailureReason;
  readonly reasonIndex: number;
  readonly method: SuccessMethod;
  readonly methodIndex: number;
}

const methodLabels = new Map<string, MethodLabels>();
let lastMethodWord = '';
let lastMethodLabels: MethodLabels | undefined;
function labelsOfMethod(word: string): MethodLabels {
  // Runs of lines share their method: the last answer first.
  if (word === lastMethodWord && lastMethodLabels) return lastMethodLabels;
  let labels = methodLabels.get(word);
  if (labels === undefined) {
    const reason = failureMethodLabel(word);
    const method = methodLabel(word);
    labels = { reason, reasonIndex: failureReasons.indexOf(reason), method, methodIndex: successMethods.indexOf(method) };
    // Method words are whatever a client sends: remember a bounded few.
    if (methodLabels.size < 64) methodLabels.set(detach(word), labels);
  }
  lastMethodWord = detach(word);
  lastMethodLabels = labels;
  return labels;
}
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

/** A Classification written in place: the pipeline reuses one for every line. */
export type ClassificationSlot = { -readonly [K in keyof Classification]: Classification[K] };

export function emptyClassification(): ClassificationSlot {
  return {
    pattern: authPatterns[0]!,
    patternIndex: 0,
    service: 'other',
    outcome: 'notice',
    role: 'echo',
    reason: undefined,
    method: undefined,
    serviceIndex: 0,
    reasonIndex: -1,
    methodIndex: -1,
    user: undefined,
    address: undefined,
    count: 1,
    repeat: 1,
    complete: false,
  };
}

/** Classify one message of `program`; undefined when no pattern matches (ordinary log noise). */
export function classifyMessage(program: string, message: string): Classification | undefined {
  const into = emptyClassification();
  return classifyInto(program, message, into, true) ? into : undefined;
}

/**
 * Classify into `into`; false when no pattern matches. Without `fields`, a line whose pattern
 * only needs recognising (a notice or an echo of a fixed service, whose user and address no
 * counter reads) is tested, not matched: no match array, no captured strings.
 */
export function classifyInto(program: string, message: string, into: ClassificationSlot, fields: boolean): boolean {
  if (message.charCodeAt(0) === 109 /* m */ && message.startsWith('message repeated ')) {
    const m = repeated.exec(message);
    if (!m || !classifyOnce(program, m[2]!, into, fields)) return false;
    into.repeat = Math.min(Number(m[1]), maxRepeat);
    return true;
  }
  return classifyOnce(program, message, into, fields);
}

function classifyOnce(program: string, message: string, into: ClassificationSlot, fields: boolean): boolean {
  // PAM lines look alike whoever logs them; no program's own pattern starts with "pam_".
  const pam = message.charCodeAt(0) === 112 /* p */ && message.startsWith('pam_');
  const index = pam ? pamPatterns : indexOfProgram(program);
  if (!index) return false;
  const candidates = index.candidates(message);
  const second = message.charCodeAt(1);
  // The PAM service a PAM line names, read once for all its candidates (when only testing).
  let pamService: AuthService | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (c.prefixes !== null && !startsWithAny(message, second, c)) continue;
    if (c.needles !== null && !containsAny(message, c.needles)) continue;
    if (!fields && c.fieldless) {
      if (!c.regex.test(message)) continue;
      fill(into, c, undefined, message, undefined);
      return true;
    }
    // A PAM line that counts no attempt (an echo, or PAM's line of a program that logs its own
    // attempt lines) tells nothing but its PAM service: tested, not matched.
    if (!fields && c.service === 'pam') {
      pamService ??= serviceOfPamName(pamServiceName(message));
      if (c.role === 'echo' || selfLoggingPamServices.has(pamService)) {
        if (!c.regex.test(message)) continue;
        fill(into, c, undefined, message, pamService);
        return true;
      }
    }
    const match = c.regex.exec(message);
    if (match) {
      fill(into, c, match, message, undefined);
      return true;
    }
  }
  return false;
}

/** `pamService`: the service of a PAM line's PAM service name, when the caller has read it already. */
function fill(
  into: ClassificationSlot,
  c: CompiledPattern,
  match: RegExpExecArray | undefined,
  message: string,
  pamService: AuthService | undefined,
): void {
  const g = c.groups;
  let service: AuthService;
  let role = c.role;
  let user: string | undefined;
  let address: string | undefined;
  let method: string | undefined;
  let count: string | undefined;
  if (match) {
    user = group(match, g.user) ?? group(match, g.user2) ?? group(match, g.user3);
    address = group(match, g.addr) ?? group(match, g.addr2);
    method = group(match, g.method);
    if (c.counts) count = group(match, g.count);
    if (user === undefined && address === undefined && message.includes(' rhost=')) {
      user = pamField(message, ' user=');
      address = pamField(message, ' rhost=');
    }
    if (group(match, g.root) !== undefined) user ??= 'root';
  }
  if (c.service === 'pam') {
    service = pamService ?? serviceOfPamName(match ? (group(match, g.pamservice) ?? '') : pamServiceName(message));
    // sshd, sudo, su and login log each attempt themselves: their PAM lines only repeat it.
    if (selfLoggingPamServices.has(service)) role = 'echo';
  } else service = c.service;
  if (c.reason === 'root_refused') user ??= 'root';
  const labels = c.reason === 'method' || c.method === 'method' ? labelsOfMethod(method ?? '') : undefined;
  into.pattern = c.pattern;
  into.patternIndex = c.index;
  into.service = service;
  into.outcome = c.outcome;
  into.role = role;
  if (c.reason === 'method') {
    into.reason = labels!.reason;
    into.reasonIndex = labels!.reasonIndex;
  } else {
    into.reason = c.reason ?? undefined;
    into.reasonIndex = c.reasonIndex;
  }
  if (c.method === 'method') {
    into.method = labels!.method;
    into.methodIndex = labels!.methodIndex;
  } else {
    into.method = c.method ?? undefined;
    into.methodIndex = c.methodIndex;
  }
  into.serviceIndex = c.serviceIndex >= 0 ? c.serviceIndex : serviceIndexOf.get(service)!;
  into.user = user === '' ? undefined : user;
  into.address = address === '' || address === undefined ? undefined : clientAddress(address);
  into.count = count !== undefined ? Math.min(Number(count), maxRepeat) : 1;
  into.repeat = 1;
  into.complete = match !== undefined;
}

/** NAME of `pam_x(NAME:type): ...` or `pam_x(NAME): ...`. */
function pamServiceName(message: string): string {
  const open = message.indexOf('(');
  let end = open + 1;
  for (; end < message.length; end++) {
    const ch = message.charCodeAt(end);
    if (ch === 58 /* : */ || ch === 41 /* ) */) break;
  }
  return open < 0 ? '' : message.slice(open + 1, end);
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

function group(match: RegExpExecArray, at: number): string | undefined {
  return at === 0 ? undefined : match[at];
}

function containsAny(message: string, needles: readonly string[]): boolean {
  for (let i = 0; i < needles.length; i++) if (message.includes(needles[i]!)) return true;
  return false;
}

/**
 * Whether the message may start with one of the pattern's prefixes: a filter before the regex,
 * which is anchored and spells the prefix out again (compile() checks), so it compares only the
 * second (`second`, read once per line) and the last character of each (the first chose the
 * candidates): most candidates differ there.
 */
function startsWithAny(message: string, second: number, c: CompiledPattern): boolean {
  const seconds = c.prefixSeconds;
  for (let i = 0; i < seconds.length; i++) {
    if (second === seconds[i] && message.charCodeAt(c.prefixEnds[i]!) === c.prefixLasts[i]) return true;
  }
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

/**
 * The one table of auth log messages, in the manner of fail2ban filters: every message form the
 * collector understands is a named pattern here, and each is proven by annotated sample lines in
 * test/fixtures/auth/. First match wins within a program's list.
 *
 * Attempts, not lines: sshd and PAM both log one failed password, and several lines only close or
 * summarise attempts already logged. `role` says how a line counts (see AttemptRole); every matched
 * line is still counted under its own pattern in hostguard_auth_messages_total.
 */

export const authServices = ['sshd', 'sudo', 'su', 'login', 'other'] as const;
export type AuthService = (typeof authServices)[number];

export const failureReasons = [
  'password',
  'publickey',
  'keyboard_interactive',
  'none',
  'hostbased',
  'gssapi',
  'other_method',
  'invalid_user',
  'user_not_allowed',
  'root_refused',
  'preauth_disconnect',
  'incorrect_password',
  'not_in_sudoers',
  'command_not_allowed',
  'pam_failure',
  'account_locked',
] as const;
export type FailureReason = (typeof failureReasons)[number];

export const successMethods = ['password', 'publickey', 'keyboard_interactive', 'hostbased', 'gssapi', 'other_method', 'pam'] as const;
export type SuccessMethod = (typeof successMethods)[number];

/**
 * How a failure line counts toward attempts, within one connection (program + pid):
 * - attempt: the line is `count` attempts (sshd's `Failed ...`, sudo's `N incorrect password attempts`);
 * - opens: a rejection before or instead of an attempt line (invalid user, not allowed, root refused):
 *   one attempt now, and the connection's next `attempt` line is that same attempt;
 * - closes: a disconnect naming a user: one attempt only if the connection counted none (a client that
 *   offered keys, which sshd logs below INFO, and left); it ends the connection;
 * - echo: not an attempt, and the connection goes on: repeats or summaries of attempts already
 *   counted (PAM beside the program's own line, "PAM 2 more authentication failures"), and notices
 *   (probes, "Received disconnect", which sshd follows with the line naming the user);
 * - ends: a successful login: not an attempt, and the connection is done with authentication.
 */
export type AttemptRole = 'attempt' | 'opens' | 'closes' | 'echo' | 'ends';

export type PatternOutcome = 'failure' | 'success' | 'notice';

export interface AuthPattern {
  readonly name: string;
  /** `pam`: the PAM service named in the line decides (sshd, sudo, su, login, or other). */
  readonly service: AuthService | 'pam';
  readonly outcome: PatternOutcome;
  readonly role: AttemptRole;
  /** For failures: a fixed reason, or `method` to take it from the line's method group. */
  readonly reason?: FailureReason | 'method';
  /** For successes: a fixed method, or `method` to take it from the line. */
  readonly method?: SuccessMethod | 'method';
  /** Every matching message starts with one of these: a cheap test before the regex. */
  readonly prefix?: string | readonly string[];
  /** Every matching message contains this. */
  readonly contains?: string;
  /** Named groups: user, addr, count, method, pamservice, root. */
  readonly regex: RegExp;
  readonly description: string;
}

const port = String.raw`port \d+`;

/** Programs whose lines each pattern list applies to; PAM patterns apply to every program. */
export const programPatterns: Readonly<Record<string, readonly string[]>> = {
  sshd: ['sshd', 'sshd-session', 'sshd-auth'],
  sudo: ['sudo'],
  su: ['su'],
  login: ['login'],
};

export const authPatterns: readonly AuthPattern[] = [
  // ---- sshd -------------------------------------------------------------------------------
  {
    name: 'sshd_failed',
    service: 'sshd',
    outcome: 'failure',
    role: 'attempt',
    reason: 'method',
    prefix: 'Failed ',
    // Greedy user: a user name containing " from x port n" cannot move the address.
    regex: new RegExp(String.raw`^Failed (?<method>\S+) for (?:invalid user )?(?<user>.*) from (?<addr>\S+) ${port}(?: ssh2)?(?:: .*)?$`),
    description: 'a failed authentication by method (password, publickey, keyboard-interactive, none, ...), for a valid or invalid user',
  },
  {
    name: 'sshd_invalid_user',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'invalid_user',
    prefix: ['Invalid user ', 'Illegal user '],
    regex: new RegExp(String.raw`^(?:Invalid|Illegal) user (?<user>.*) from (?<addr>\S+)(?: ${port})?\s*$`),
    description: 'a login name with no account (sshd logs it before the attempts for it)',
  },
  {
    name: 'sshd_user_not_allowed',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'user_not_allowed',
    prefix: 'User ',
    regex: /^User (?<user>.+) from (?<addr>\S+) not allowed because .+$/,
    description: 'AllowUsers/DenyUsers/AllowGroups/DenyGroups or a missing shell refused the user',
  },
  {
    name: 'sshd_root_refused',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'root_refused',
    prefix: 'ROOT LOGIN REFUSED',
    regex: new RegExp(String.raw`^ROOT LOGIN REFUSED FROM (?<addr>\S+)(?: ${port})?\s*$`),
    description: 'PermitRootLogin refused root (the user is root)',
  },
  {
    name: 'sshd_max_attempts',
    service: 'sshd',
    outcome: 'failure',
    role: 'echo',
    prefix: ['error: maximum authentication attempts exceeded', 'maximum authentication attempts exceeded'],
    regex: new RegExp(String.raw`^(?:error: )?maximum authentication attempts exceeded for (?:invalid user )?(?<user>.*) from (?<addr>\S+) ${port} ssh2(?: \[preauth\])?$`),
    description: 'MaxAuthTries reached; the attempts were each logged already',
  },
  {
    name: 'sshd_too_many_failures',
    service: 'sshd',
    outcome: 'failure',
    role: 'closes',
    reason: 'preauth_disconnect',
    prefix: 'Disconnecting',
    regex: new RegExp(
      String.raw`^Disconnecting(?: (?:authenticating|invalid) user (?<user>.*) (?<addr>\S+) ${port})?: Too many authentication failures(?: for (?:invalid user )?(?<user2>.+?))?(?: \[preauth\])?$`,
    ),
    description: 'sshd closes after too many failures; an attempt only if none was logged (key offers are logged below INFO)',
  },
  {
    name: 'sshd_pam_more_failures',
    service: 'sshd',
    outcome: 'failure',
    role: 'echo',
    prefix: 'PAM ',
    regex: /^PAM (?<count>\d+) more authentication failures?;/,
    description: 'the PAM summary at the end of a connection; each failure was logged as "Failed ..."',
  },
  {
    name: 'sshd_preauth_closed_user',
    service: 'sshd',
    outcome: 'failure',
    role: 'closes',
    reason: 'preauth_disconnect',
    contains: ' user ',
    prefix: ['Connection closed by ', 'Disconnected from ', 'Connection reset by '],
    regex: new RegExp(String.raw`^(?:Connection closed by|Disconnected from|Connection reset by) (?:authenticating|invalid) user (?<user>.*) (?<addr>\S+) ${port}(?::\d+: .*)? \[preauth\]$`),
    description: 'a client that named a user left before authenticating',
  },
  {
    name: 'sshd_preauth_disconnect',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    contains: '[preauth]',
    prefix: ['Connection closed by ', 'Disconnected from ', 'Received disconnect from '],
    regex: new RegExp(String.raw`^(?:Connection closed by|Disconnected from|Received disconnect from) (?<addr>\S+) ${port}(?::\d+: .*)? \[preauth\]$`),
    description: 'a connection closed before any user was named (scanners, banner grabs)',
  },
  {
    name: 'sshd_preauth_reset',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    contains: 'reset',
    prefix: ['Connection reset by ', 'Read error from remote host '],
    regex: new RegExp(String.raw`^(?:Connection reset by (?<addr>\S+) ${port}|Read error from remote host (?<addr2>\S+) ${port}: Connection reset by peer) \[preauth\]$`),
    description: 'a connection reset before authentication',
  },
  {
    name: 'sshd_no_identification',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    prefix: 'Did not receive identification string',
    regex: new RegExp(String.raw`^Did not receive identification string from (?<addr>\S+)(?: ${port})?$`),
    description: 'a client connected and sent no SSH banner (port scanners)',
  },
  {
    name: 'sshd_bad_identification',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    prefix: ['error: kex_exchange_identification: ', 'banner exchange: ', 'Bad protocol version identification '],
    regex: new RegExp(
      String.raw`^(?:error: kex_exchange_identification: .+|banner exchange: Connection from (?<addr>\S+) ${port}: .+|Bad protocol version identification .* from (?<addr2>\S+)(?: ${port})?)$`,
    ),
    description: 'a client sent something that is not an SSH banner, or left during the banner exchange',
  },
  {
    name: 'sshd_negotiation_failed',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    prefix: ['Unable to negotiate with ', 'ssh_dispatch_run_fatal: ', 'fatal: ssh_dispatch_run_fatal: ', 'kex_protocol_error: '],
    regex: new RegExp(
      String.raw`^(?:Unable to negotiate with (?<addr>\S+) ${port}: no matching .+|(?:fatal: )?ssh_dispatch_run_fatal: Connection from (?<addr2>\S+) ${port}: .+|kex_protocol_error: .+)$`,
    ),
    description: 'key exchange or negotiation failed (no common algorithm, corrupt packets)',
  },
  {
    name: 'sshd_accepted',
    service: 'sshd',
    outcome: 'success',
    role: 'ends',
    method: 'method',
    prefix: 'Accepted ',
    regex: new RegExp(String.raw`^Accepted (?<method>\S+) for (?<user>.*) from (?<addr>\S+) ${port}(?: ssh2)?(?:: .*)?$`),
    description: 'a successful login, by method',
  },
  // ---- sudo -------------------------------------------------------------------------------
  {
    name: 'sudo_incorrect_password',
    service: 'sudo',
    outcome: 'failure',
    role: 'attempt',
    reason: 'incorrect_password',
    contains: ' incorrect password attempt',
    regex: /^\s*(?<user>\S+) : (?<count>\d+) incorrect password attempts? ;/,
    description: 'sudo gave up after N wrong passwords of the invoking user: N attempts',
  },
  {
    name: 'sudo_not_in_sudoers',
    service: 'sudo',
    outcome: 'failure',
    role: 'attempt',
    reason: 'not_in_sudoers',
    contains: ' NOT ',
    regex: /^\s*(?<user>\S+) : (?:\d+ incorrect password attempts? ; )?user NOT (?:in sudoers|authorized on host) ;/,
    description: 'a user not in sudoers tried sudo',
  },
  {
    name: 'sudo_command_not_allowed',
    service: 'sudo',
    outcome: 'failure',
    role: 'attempt',
    reason: 'command_not_allowed',
    contains: ' command not allowed ;',
    regex: /^\s*(?<user>\S+) : (?:\d+ incorrect password attempts? ; )?command not allowed ;/,
    description: 'sudoers does not allow that command for the user',
  },
  {
    name: 'sudo_command',
    service: 'sudo',
    outcome: 'notice',
    role: 'echo',
    contains: ' ; COMMAND=',
    regex: /^\s*(?<user>\S+) : (?:TTY=\S+ ; )?PWD=.* ; USER=\S+ ; (?:.+ ; )?COMMAND=.*$/,
    description: 'a command run through sudo',
  },
  // ---- su ---------------------------------------------------------------------------------
  {
    name: 'su_failed',
    service: 'su',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    prefix: 'FAILED ',
    regex: /^FAILED (?:SU \(to (?<user>\S+)\) (?<by>\S+) on \S+|su for (?<user2>\S+) by (?<by2>\S+))$/,
    description: 'a failed su; the user is the target account, whose password was tried',
  },
  {
    name: 'su_success',
    service: 'su',
    outcome: 'success',
    role: 'ends',
    method: 'pam',
    prefix: ['(to ', 'Successful su for '],
    regex: /^(?:\(to (?<user>\S+)\) (?<by>\S+) on \S+|Successful su for (?<user2>\S+) by (?<by2>\S+))$/,
    description: 'a successful su to the target account',
  },
  // ---- login ------------------------------------------------------------------------------
  {
    name: 'login_failed',
    service: 'login',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    prefix: 'FAILED LOGIN',
    // The number is the attempt's ordinal on this terminal, not a count.
    regex: /^FAILED LOGIN \(?\d+\)? (?:on|FROM) '?[^' ]+'? FOR '?(?<user>[^',]*)'?(?:, .*)?$/,
    description: 'a failed console login (shadow and util-linux forms)',
  },
  {
    name: 'login_too_many_tries',
    service: 'login',
    outcome: 'failure',
    role: 'echo',
    prefix: 'TOO MANY LOGIN TRIES',
    regex: /^TOO MANY LOGIN TRIES \(?\d+\)? (?:on|FROM) '?[^' ]+'? FOR '?(?<user>[^',]*)'?(?:, .*)?$/,
    description: 'login gave up; each try was logged as FAILED LOGIN',
  },
  {
    name: 'login_success',
    service: 'login',
    outcome: 'success',
    role: 'ends',
    method: 'pam',
    contains: 'LOGIN',
    prefix: ['ROOT LOGIN', 'LOGIN '],
    regex: /^(?<root>ROOT )?LOGIN +(?:ON|on) '?[^' ]+'?(?: BY (?<user>\S+))?(?: FROM (?<addr>\S+))?$/,
    description: 'a successful console login (ROOT LOGIN for root)',
  },
  // ---- PAM, from any program ----------------------------------------------------------------
  {
    name: 'pam_unix_auth_failure',
    service: 'pam',
    outcome: 'failure',
    role: 'opens',
    reason: 'pam_failure',
    prefix: 'pam_unix(',
    regex: /^pam_unix\((?<pamservice>[^:)]+):auth\): authentication failure;/,
    description: 'pam_unix rejected a password; an attempt for services that log none of their own, an echo for sshd, sudo, su and login',
  },
  {
    name: 'pam_faillock_locked',
    service: 'pam',
    outcome: 'failure',
    role: 'attempt',
    reason: 'account_locked',
    prefix: 'pam_faillock(',
    regex: /^pam_faillock\((?<pamservice>[^:)]+):auth\): Consecutive login failures for user (?<user>\S+) account temporarily locked$/,
    description: 'pam_faillock refused a locked account; an echo when pam_unix or the program logged the attempt',
  },
  {
    name: 'pam_unix_user_unknown',
    service: 'pam',
    outcome: 'failure',
    role: 'echo',
    prefix: 'pam_unix(',
    regex: /^pam_unix\((?<pamservice>[^:)]+):auth\): check pass; user unknown$/,
    description: 'pam_unix was asked about a user with no account; the attempt is logged by the next line',
  },
];

/** PAM service names (`pam_unix(NAME:auth)`) of programs that log their own attempt lines. */
const pamServiceOf: Readonly<Record<string, AuthService>> = {
  sshd: 'sshd',
  sudo: 'sudo',
  'sudo-i': 'sudo',
  su: 'su',
  'su-l': 'su',
  login: 'login',
};

export function serviceOfPamName(name: string): AuthService {
  return pamServiceOf[name] ?? 'other';
}

const methodNames: Readonly<Record<string, FailureReason & SuccessMethod>> = {
  password: 'password',
  publickey: 'publickey',
  'keyboard-interactive': 'keyboard_interactive',
  'keyboard-interactive/pam': 'keyboard_interactive',
  hostbased: 'hostbased',
  'gssapi-with-mic': 'gssapi',
  'gssapi-keyex': 'gssapi',
};

/** sshd's method word as a bounded label value. */
export function methodLabel(method: string): FailureReason & SuccessMethod {
  return methodNames[method] ?? 'other_method';
}

export function failureMethodLabel(method: string): FailureReason {
  return method === 'none' ? 'none' : methodLabel(method);
}

/** Every label a `method` group can become, for failures and for successes. */
const failureMethodReasons: readonly FailureReason[] = [...new Set([...Object.values(methodNames), 'other_method', 'none'] as FailureReason[])];
const successMethodValues: readonly SuccessMethod[] = [...new Set([...Object.values(methodNames), 'other_method'] as SuccessMethod[])];

/**
 * The (service, reason) pairs the table can count as failures, and the (service, method) pairs it
 * can count as successes: exported at 0 from the start, so that `rate()` in a rule sees the first
 * burst after a restart instead of a series that appears already at its final value. A PAM line
 * may count for any service (as an attempt or only as an echo, decided by the line's context).
 */
export function failureLabelPairs(): Array<{ service: AuthService; reason: FailureReason }> {
  const pairs = new Map<string, { service: AuthService; reason: FailureReason }>();
  for (const p of authPatterns) {
    if (p.outcome !== 'failure' || p.role === 'echo' || p.reason === undefined) continue;
    for (const service of p.service === 'pam' ? authServices : [p.service]) {
      for (const reason of p.reason === 'method' ? failureMethodReasons : [p.reason]) pairs.set(`${service}/${reason}`, { service, reason });
    }
  }
  return [...pairs.values()];
}

export function successLabelPairs(): Array<{ service: AuthService; method: SuccessMethod }> {
  const pairs = new Map<string, { service: AuthService; method: SuccessMethod }>();
  for (const p of authPatterns) {
    if (p.outcome !== 'success' || p.method === undefined) continue;
    for (const service of p.service === 'pam' ? authServices : [p.service]) {
      for (const method of p.method === 'method' ? successMethodValues : [p.method]) pairs.set(`${service}/${method}`, { service, method });
    }
  }
  return [...pairs.values()];
}

/**
 * The one table of auth log messages, in the manner of fail2ban filters: every message form the
 * collector understands is a named pattern (in src/auth/patterns/, one file per family of
 * daemons), and each is proven by annotated sample lines in test/fixtures/auth/. First match wins
 * within a program's list.
 *
 * Attempts, not lines: sshd and PAM both log one failed password, and several lines only close or
 * summarise attempts already logged. `role` says how a line counts (see AttemptRole); every matched
 * line is still counted under its own pattern in hostguard_auth_messages_total.
 */
import { localLoginPatterns } from './patterns/local-login.js';
import { ftpPatterns } from './patterns/ftp.js';
import { mailPatterns } from './patterns/mail.js';
import { databasePatterns } from './patterns/databases.js';
import { remoteAccessPatterns } from './patterns/remote-access.js';
import { webPatterns } from './patterns/web.js';
import { pamPatterns } from './patterns/pam.js';
import { sshdPatterns } from './patterns/sshd.js';

/** The `service` label: a fixed list. `other` is any other program authenticating through PAM (pam_unix), and saslauthd. */
export const authServices = [
  'sshd',
  'sudo',
  'su',
  'login',
  'vsftpd',
  'proftpd',
  'pure-ftpd',
  'dovecot',
  'postfix',
  'exim',
  'courier',
  'cyrus',
  'mysql',
  'postgresql',
  'openvpn',
  'xrdp',
  'nginx',
  'apache',
  'other',
] as const;
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
  'client_gave_up',
  'user_changed',
  'refused_connect',
  'certificate',
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
 * How a failure line counts toward attempts, within one connection (program's pid, in one source):
 * - attempt: the line is `count` attempts (sshd's `Failed ...`, sudo's `N incorrect password
 *   attempts`, a daemon's own failure line), less the connection's pending credits (below);
 * - opens: a line logged before or instead of an attempt line of the same attempt (sshd's invalid
 *   user, not allowed, root refused; PAM's failure line of a daemon that also logs its own): one
 *   attempt now, and one credit, so the connection's next attempt line is that same attempt;
 * - prefaces: like opens, but no attempt when a credit is already pending: PAM's error line that
 *   sshd logs between its invalid-user line and its Failed line;
 * - once: a failure the client reported (it gave up): one attempt unless the connection counted one;
 * - single: one attempt that no other line repeats, whatever the connection counted (tcp wrappers'
 *   refusal, a refused change of user name);
 * - closes: a disconnect naming a user: one attempt only if the connection counted none (a client that
 *   offered keys, which sshd logs below INFO, and left); it ends the connection;
 * - echo: not an attempt, and the connection goes on: repeats or summaries of attempts already
 *   counted (PAM beside the program's own line, "PAM 2 more authentication failures"), and notices
 *   (probes, "Received disconnect", which sshd follows with the line naming the user);
 * - ends: a successful login: not an attempt, and the connection is done with authentication.
 */
export type AttemptRole = 'attempt' | 'opens' | 'prefaces' | 'once' | 'single' | 'closes' | 'echo' | 'ends';

export type PatternOutcome = 'failure' | 'success' | 'notice';

export interface AuthPattern {
  readonly name: string;
  /** `pam`: the PAM service named in the line decides (see serviceOfPamName). */
  readonly service: AuthService | 'pam';
  readonly outcome: PatternOutcome;
  readonly role: AttemptRole;
  /** For failures: a fixed reason, or `method` to take it from the line's method group. */
  readonly reason?: FailureReason | 'method';
  /** For successes: a fixed method, or `method` to take it from the line. */
  readonly method?: SuccessMethod | 'method';
  /** Every matching message starts with one of these: a cheap test before the regex. */
  readonly prefix?: string | readonly string[];
  /** Every matching message contains this (one of these). */
  readonly contains?: string | readonly string[];
  /** Named groups: user (or user2, user3 in other alternatives), addr (addr2), count, method, pamservice, root. */
  readonly regex: RegExp;
  readonly description: string;
}

/**
 * The programs (syslog tag, journal SYSLOG_IDENTIFIER, or what a daemon's own log header names)
 * whose messages each service's patterns apply to. '' is a line whose header names no program
 * (exim's mainlog, OpenVPN's and PostgreSQL's own files). PAM patterns apply to every program.
 */
export const servicePrograms: Readonly<Record<AuthService, readonly string[]>> = {
  sshd: ['sshd', 'sshd-session', 'sshd-auth'],
  sudo: ['sudo'],
  su: ['su'],
  login: ['login'],
  vsftpd: ['vsftpd'],
  proftpd: ['proftpd'],
  'pure-ftpd': ['pure-ftpd', 'pure-ftpd-mysql', 'pure-ftpd-postgresql', 'pure-ftpd-ldap'],
  dovecot: ['dovecot', 'imap-login', 'pop3-login', 'managesieve-login', 'submission-login', 'auth', 'auth-worker', 'dovecot-auth'],
  postfix: [],
  exim: ['exim', 'exim4', ''],
  courier: [
    'imapd',
    'imapd-ssl',
    'pop3d',
    'pop3d-ssl',
    'courier-imapd',
    'courier-imapd-ssl',
    'courier-pop3d',
    'courier-pop3d-ssl',
    'courierpop3login',
    'courierpop3d',
    'courieresmtpd',
    'courier-esmtpd',
  ],
  cyrus: ['imap', 'imaps', 'imapd', 'pop3', 'pop3s', 'pop3d', 'sieve', 'timsieved', 'cyrus-imapd', 'cyrus'],
  mysql: ['mysqld', 'mariadbd', 'mysqld_safe', 'mariadb', 'mysql'],
  postgresql: ['postgres', 'postgresql', 'postmaster', ''],
  openvpn: ['openvpn', 'openvpn-server', 'openvpn-client', 'ovpn-server', 'ovpn-client', ''],
  xrdp: ['xrdp', 'xrdp-sesman'],
  nginx: ['nginx'],
  apache: ['apache', 'apache2', 'httpd'],
  other: ['saslauthd'],
};

/** Program name prefixes of services whose tags name an instance or a sub-program: `postfix/smtpd`, `cyrus/imap`, `ovpn-office`, `httpd/ssl`. */
export const serviceProgramPrefixes: ReadonlyArray<readonly [string, AuthService]> = [
  ['postfix', 'postfix'],
  ['cyrus/', 'cyrus'],
  ['ovpn-', 'openvpn'],
  ['openvpn@', 'openvpn'],
  ['httpd/', 'apache'],
];

export const authPatterns: readonly AuthPattern[] = [
  ...sshdPatterns,
  ...localLoginPatterns,
  ...ftpPatterns,
  ...mailPatterns,
  ...databasePatterns,
  ...remoteAccessPatterns,
  ...webPatterns,
  ...pamPatterns,
];

/** PAM service names (`pam_unix(NAME:auth)`) of the services in the list; any other is `other`. */
const pamServiceOf: ReadonlyMap<string, AuthService> = new Map(
  Object.entries({
    sshd: 'sshd',
    sudo: 'sudo',
    'sudo-i': 'sudo',
    su: 'su',
    'su-l': 'su',
    login: 'login',
    vsftpd: 'vsftpd',
    proftpd: 'proftpd',
    'pure-ftpd': 'pure-ftpd',
    dovecot: 'dovecot',
    openvpn: 'openvpn',
    'xrdp-sesman': 'xrdp',
    mysql: 'mysql',
    mariadb: 'mysql',
    postgresql: 'postgresql',
    nginx: 'nginx',
  }) as [string, AuthService][],
);

let lastPamName = '';
let lastPamService: AuthService = 'other';

export function serviceOfPamName(name: string): AuthService {
  if (name !== lastPamName) {
    lastPamService = pamServiceOf.get(name) ?? 'other';
    lastPamName = (' ' + name).slice(1);
  }
  return lastPamService;
}

/** The services a PAM line can be counted under. */
const pamServices: readonly AuthService[] = [...new Set([...pamServiceOf.values(), 'other' as const])];

/** Services whose own line of every attempt comes from the process that logs its PAM line, in the same log: their PAM lines only repeat it. */
export const selfLoggingPamServices: ReadonlySet<AuthService> = new Set(['sshd', 'sudo', 'su', 'login']);

const methodNames: ReadonlyMap<string, FailureReason & SuccessMethod> = new Map(
  Object.entries({
    password: 'password',
    publickey: 'publickey',
    'keyboard-interactive': 'keyboard_interactive',
    'keyboard-interactive/pam': 'keyboard_interactive',
    hostbased: 'hostbased',
    'gssapi-with-mic': 'gssapi',
    'gssapi-keyex': 'gssapi',
  }) as [string, FailureReason & SuccessMethod][],
);

/** sshd's method word as a bounded label value. */
export function methodLabel(method: string): FailureReason & SuccessMethod {
  return methodNames.get(method) ?? 'other_method';
}

export function failureMethodLabel(method: string): FailureReason {
  return method === 'none' ? 'none' : methodLabel(method);
}

/** Every label a `method` group can become, for failures and for successes. */
const failureMethodReasons: readonly FailureReason[] = [...new Set([...methodNames.values(), 'other_method', 'none'] as FailureReason[])];
const successMethodValues: readonly SuccessMethod[] = [...new Set([...methodNames.values(), 'other_method'] as SuccessMethod[])];

/**
 * The (service, reason) pairs the table can count as failures, and the (service, method) pairs it
 * can count as successes: exported at 0 from the start, so that `rate()` in a rule sees the first
 * burst after a restart instead of a series that appears already at its final value. A PAM line
 * counts for the service its PAM service name maps to, or `other`.
 */
export function failureLabelPairs(): Array<{ service: AuthService; reason: FailureReason }> {
  const pairs = new Map<string, { service: AuthService; reason: FailureReason }>();
  for (const p of authPatterns) {
    if (p.outcome !== 'failure' || p.role === 'echo' || p.reason === undefined) continue;
    for (const service of p.service === 'pam' ? pamServices : [p.service]) {
      for (const reason of p.reason === 'method' ? failureMethodReasons : [p.reason])
        pairs.set(`${service}/${reason}`, { service, reason });
    }
  }
  return [...pairs.values()];
}

export function successLabelPairs(): Array<{ service: AuthService; method: SuccessMethod }> {
  const pairs = new Map<string, { service: AuthService; method: SuccessMethod }>();
  for (const p of authPatterns) {
    if (p.outcome !== 'success' || p.method === undefined) continue;
    for (const service of p.service === 'pam' ? pamServices : [p.service]) {
      for (const method of p.method === 'method' ? successMethodValues : [p.method]) pairs.set(`${service}/${method}`, { service, method });
    }
  }
  return [...pairs.values()];
}

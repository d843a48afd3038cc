import type { AuthPattern } from '../patterns.js';

/**
 * PAM's lines, from any program: the PAM service named in the line gives the `service` label
 * (serviceOfPamName). For sshd, sudo, su and login they only repeat the attempt the program logs
 * itself (echo); for the other daemons in the list they open it (their own failure line from the
 * same process is the same attempt); for any other program they are its only record.
 */
export const pamPatterns: readonly AuthPattern[] = [
  {
    name: 'pam_unix_auth_failure',
    service: 'pam',
    outcome: 'failure',
    role: 'opens',
    reason: 'pam_failure',
    prefix: 'pam_unix(',
    // `(NAME)` alone is Linux-PAM before 0.99, whose tag the header parser turns into this form.
    regex: /^pam_unix\((?<pamservice>[^:)]+)(?::auth)?\): authentication failure;/,
    description: 'pam_unix rejected a password; an echo for sshd, sudo, su and login, which log the attempt themselves',
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
    regex: /^pam_unix\((?<pamservice>[^:)]+)(?::auth)?\): check pass; user unknown$/,
    description: 'pam_unix was asked about a user with no account; the attempt is logged by the next line',
  },
  {
    name: 'saslauthd_failure',
    service: 'other',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    prefix: 'do_auth',
    regex: /^do_auth\s*: auth failure: \[user=(?<user>[^\]]*)\] \[service=[^\]]*\]/,
    description:
      "Cyrus SASL's saslauthd refused a password (for Postfix, Cyrus, ...); with mech=pam the PAM line of the same process is the same attempt",
  },
];

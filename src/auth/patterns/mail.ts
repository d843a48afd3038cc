import type { AuthPattern } from '../patterns.js';

/**
 * Mail servers. Dovecot (2.2 to 2.4: syslog, its own log_path, the journal), Postfix's SASL
 * (smtpd, any instance or service name), exim's mainlog or syslog, Courier (imapd, pop3d, esmtpd),
 * Cyrus IMAP (imapd, pop3d, sieve).
 */
const dovecotProcess = String.raw`^(?:[a-z0-9-]+-login: )?(?:Info: )?`;

export const mailPatterns: readonly AuthPattern[] = [
  // ---- dovecot ----------------------------------------------------------------------------
  {
    name: 'dovecot_auth_failed',
    service: 'dovecot',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: '(auth failed, ',
    regex: new RegExp(
      String.raw`${dovecotProcess}(?:Aborted login|Disconnected|Login aborted|Remote closed connection|Client has quit the connection)[^(]*\(auth failed, (?<count>\d+) attempts?(?: in \d+ secs)?\)(?: \([a-z_]+\))?: (?:user=<(?<user>[^>]*)>, )?(?:method=[^,]+, )?rip=(?<addr>[^,\s]+)`,
    ),
    description: 'a client left after N failed logins: N attempts (the login process counts them)',
  },
  {
    name: 'dovecot_auth_detail',
    service: 'dovecot',
    outcome: 'failure',
    role: 'echo',
    contains: '(',
    regex:
      /^(?:auth(?:-worker)?(?:\(\d+\))?: )?(?:Info: )?[a-z-]+\((?<user>[^,()]*),(?<addr>[^,()]*)[^)]*\): (?:pam_authenticate\(\) failed|[Uu]nknown user|[Pp]assword mismatch|[Ii]nvalid credentials)/,
    description: "the auth process's detail of a failure (auth_verbose); the login process counts the attempt",
  },
  {
    name: 'dovecot_login',
    service: 'dovecot',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: 'Login: user=<',
    regex: new RegExp(String.raw`${dovecotProcess}Login: user=<(?<user>[^>]*)>, (?:method=[^,]+, )?rip=(?<addr>[^,\s]+)`),
    description: 'an IMAP, POP3, ManageSieve or submission login',
  },
  // ---- postfix ----------------------------------------------------------------------------
  {
    name: 'postfix_sasl_failed',
    service: 'postfix',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    prefix: 'warning: ',
    contains: ' authentication failed',
    regex:
      /^warning: [^[\s]*\[(?<addr>[^\]]+)\](?::\d+)?: SASL [A-Za-z0-9-]+ authentication failed(?!: (?:Connection lost to authentication server|Invalid authentication mechanism))(?::[^,]*)?(?:, sasl_username=(?<user>\S+))?/,
    description: 'a failed SMTP AUTH (not a lost connection to the SASL server)',
  },
  {
    name: 'postfix_sasl_login',
    service: 'postfix',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: ', sasl_username=',
    regex: /^\w+: client=[^[\s]*\[(?<addr>[^\]]+)\](?::\d+)?, sasl_method=[^,]+, sasl_username=(?<user>\S+)/,
    description: 'a message from a client that authenticated (the SASL login)',
  },
  // ---- exim -------------------------------------------------------------------------------
  {
    name: 'exim_auth_failed',
    service: 'exim',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: ' authenticator failed for ',
    regex:
      /(?:^|\s)[\w-]+ authenticator failed for (?:H=)?(?:[^\s[(]+ )?(?:\([^)]*\) )?\[(?<addr>[^\]]+)\](?::\d+)?(?: I=\[[^\]]+\](?::\d+)?)?: 535 Incorrect authentication data(?: \(set_id=(?<user>.*)\))?/,
    description: 'a failed SMTP AUTH (535)',
  },
  {
    name: 'exim_login',
    service: 'exim',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: ' <= ',
    regex: /(?:^|\s)[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} <= .*?\[(?<addr>[^\]]+)\](?::\d+)?.* A=[\w-]+:(?<user>\S+)/,
    description: 'a message accepted from a client that authenticated (A=authenticator:user)',
  },
  // ---- courier ----------------------------------------------------------------------------
  {
    name: 'courier_login_failed',
    service: 'courier',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    prefix: 'LOGIN FAILED, ',
    regex: /^LOGIN FAILED, (?:method=[^,]*, )?(?:user=(?<user>[^,]*), )?ip=\[(?<addr>[^\]]+)\]/,
    description: 'a failed IMAP or POP3 login',
  },
  {
    name: 'courier_smtp_auth_failed',
    service: 'courier',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    prefix: 'error,relay=',
    regex: /^error,relay=(?<addr>[^,]+),(?:port=\d+,)?msg="535 Authentication failed\.",cmd: AUTH/,
    description: 'a failed SMTP AUTH (courieresmtpd)',
  },
  {
    name: 'courier_login',
    service: 'courier',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    prefix: 'LOGIN, ',
    regex: /^LOGIN, user=(?<user>[^,]*), ip=\[(?<addr>[^\]]+)\]/,
    description: 'an IMAP or POP3 login',
  },
  // ---- cyrus ------------------------------------------------------------------------------
  {
    name: 'cyrus_badlogin',
    service: 'cyrus',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    prefix: 'badlogin: ',
    regex:
      /^badlogin: (?:[^\s[]+ )?\[(?<addr>[^\]]+)\] \S+ (?:(?<user>[^\s[]+) )?\[?(?:SASL\(-\d+\): )?(?:authentication failure|user not found|[Pp]assword verification failed|checkpass failed)/,
    description: 'a failed IMAP, POP3 or sieve login (imapd, pop3d, timsieved)',
  },
  {
    name: 'cyrus_login',
    service: 'cyrus',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    prefix: 'login: ',
    regex: /^login: (?:[^\s[]+ )?\[(?<addr>[^\]]+)\] (?<user>\S+) \S+.*User logged in/,
    description: 'an IMAP or POP3 login',
  },
];

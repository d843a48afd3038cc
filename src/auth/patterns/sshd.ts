import type { AuthPattern } from '../patterns.js';

/**
 * OpenSSH 5 to 10 (sshd, and sshd-session and sshd-auth since 9.8), SunSSH and macOS's sshd:
 * every message that marks a failed attempt, a refused user or client, a client that gave up or
 * left while authenticating, a probe, or a login. Older releases wrote "illegal user" where newer
 * write "invalid user", no port, or ssh1.
 */
/** Optional where the address follows "from": a user name before it cannot take the address then. */
const port = String.raw`(?: port \d+)?`;
const preauth = String.raw`(?: \[preauth\])?`;

export const sshdPatterns: readonly AuthPattern[] = [
  {
    name: 'sshd_failed',
    service: 'sshd',
    outcome: 'failure',
    role: 'attempt',
    reason: 'method',
    prefix: 'Failed ',
    // Greedy user: a user name containing " from x port n" cannot move the address.
    regex: new RegExp(
      String.raw`^Failed (?<method>\S+) for (?:(?:invalid|illegal) user )?(?<user>.*) from (?<addr>\S+)${port}(?: ssh[12])?(?:: .*)?${preauth}$`,
    ),
    description: 'a failed authentication by method (password, publickey, keyboard-interactive, none, ...), for a valid or invalid user',
  },
  {
    name: 'sshd_invalid_user',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'invalid_user',
    prefix: ['Invalid user ', 'Illegal user ', 'invalid user ', 'illegal user '],
    regex: new RegExp(String.raw`^[Ii](?:nvalid|llegal) user (?<user>.*) from (?<addr>\S+)${port}${preauth}\s*$`),
    description: 'a login name with no account (sshd logs it before the attempts for it)',
  },
  {
    name: 'sshd_invalid_user_request',
    service: 'sshd',
    outcome: 'failure',
    role: 'echo',
    prefix: 'input_userauth_request: ',
    regex: new RegExp(String.raw`^input_userauth_request: (?:invalid|illegal) user (?<user>.*?)${preauth}$`),
    description: 'OpenSSH before 7.5 repeats the invalid user from the privilege-separated child',
  },
  {
    name: 'sshd_account_locked',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'account_locked',
    prefix: 'User ',
    regex: new RegExp(String.raw`^User (?<user>.+?) (?:from (?<addr>\S+) )?not allowed because account is locked${preauth}$`),
    description: 'the account is locked (a "!" password without UsePAM)',
  },
  {
    name: 'sshd_user_not_allowed',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'user_not_allowed',
    prefix: 'User ',
    regex: new RegExp(String.raw`^User (?<user>.+?) (?:from (?<addr>\S+) )?not allowed because .+$`),
    description: 'AllowUsers/DenyUsers/AllowGroups/DenyGroups, no group, or a missing shell refused the user',
  },
  {
    name: 'sshd_root_refused',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'root_refused',
    prefix: 'ROOT LOGIN REFUSED',
    regex: new RegExp(String.raw`^ROOT LOGIN REFUSED FROM (?<addr>[^\s,]+)${port}.*$`),
    description: 'PermitRootLogin refused root (the user is root)',
  },
  {
    name: 'sshd_pam_account_denied',
    service: 'sshd',
    outcome: 'failure',
    role: 'closes',
    reason: 'user_not_allowed',
    prefix: ['fatal: Access denied for user ', 'Access denied for user '],
    regex: new RegExp(String.raw`^(?:fatal: )?Access denied for user (?<user>.+?) by PAM account configuration${preauth}$`),
    description:
      "PAM's account stack refused the user after authentication (expired account, pam_access, an identity service's policy) and sshd closed: an attempt when no Failed line of the connection counted one (a key login)",
  },
  {
    name: 'sshd_pam_error',
    service: 'sshd',
    outcome: 'failure',
    role: 'prefaces',
    reason: 'pam_failure',
    prefix: ['error: PAM: ', 'PAM: '],
    regex: new RegExp(
      String.raw`^(?:error: )?PAM: (?:[Aa]uthentication (?:failure|error|failed)|User not known to the underlying authentication module|Authentication service cannot retrieve authentication info) for (?:(?:illegal|invalid) user )?(?<user>.*) from (?<addr>\S+?)(?: via \S+)?${preauth}$`,
    ),
    description:
      "sshd's own report of a PAM failure (keyboard-interactive, and macOS): the attempt its Failed line counts, or the only line of it",
  },
  {
    name: 'sshd_max_attempts',
    service: 'sshd',
    outcome: 'failure',
    role: 'echo',
    prefix: ['error: maximum authentication attempts exceeded', 'maximum authentication attempts exceeded'],
    regex: new RegExp(
      String.raw`^(?:error: )?maximum authentication attempts exceeded for (?:(?:invalid|illegal) user )?(?<user>.*) from (?<addr>\S+)${port}(?: ssh[12])?${preauth}$`,
    ),
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
      String.raw`^Disconnecting(?: (?:authenticating|invalid) user (?<user>.*) (?<addr>\S+) port \d+)?: Too many authentication failures(?: for (?:(?:invalid|illegal) user )?(?<user2>.+?))?${preauth}$`,
    ),
    description: 'sshd closes after too many failures; an attempt only if none was logged (key offers are logged below INFO)',
  },
  {
    name: 'sshd_user_changed',
    service: 'sshd',
    outcome: 'failure',
    role: 'single',
    reason: 'user_changed',
    prefix: 'Disconnecting',
    contains: 'Change of username or service not allowed',
    regex: new RegExp(
      String.raw`^Disconnecting(?: (?:authenticating|invalid) user .* (?<addr>\S+) port \d+)?: Change of username or service not allowed: \(.*\) -> \((?<user>[^,)]*),[^)]*\)${preauth}$`,
    ),
    description: 'a client asked for another user name on the same connection (the new name is the user): an attempt no other line logs',
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
    name: 'sshd_no_shadow',
    service: 'sshd',
    outcome: 'failure',
    role: 'echo',
    prefix: 'error: Could not get shadow information for ',
    regex: /^error: Could not get shadow information for (?<user>.*)$/,
    description: 'password authentication for an invalid user (sshd tries the fake "NOUSER"); the attempt is logged as Failed',
  },
  {
    name: 'sshd_client_gave_up',
    service: 'sshd',
    outcome: 'failure',
    role: 'once',
    reason: 'client_gave_up',
    prefix: ['Received disconnect from ', 'error: Received disconnect from '],
    regex: new RegExp(
      String.raw`^(?:error: )?Received disconnect from (?<addr>\S+?)${port}: ?(?:3: .*Auth fail|14: No(?: supported)?(?: more)?(?: user)? authentication methods available).*$`,
    ),
    description:
      'the client reported its own authentication failure (code 3 "Auth fail", code 14 no method left) and left: one attempt unless the connection counted one',
  },
  {
    name: 'sshd_tcp_wrappers',
    service: 'sshd',
    outcome: 'failure',
    role: 'single',
    reason: 'refused_connect',
    prefix: 'refused connect from ',
    regex: /^refused connect from (?:\S+ \((?<addr>[^)]+)\)|(?<addr2>\S+))$/,
    description: 'tcp wrappers (hosts.deny) refused the connection',
  },
  {
    name: 'sshd_preauth_closed_user',
    service: 'sshd',
    outcome: 'failure',
    role: 'closes',
    reason: 'preauth_disconnect',
    prefix: ['Connection closed by ', 'Disconnected from ', 'Connection reset by '],
    regex: new RegExp(
      String.raw`^(?:Connection closed by|Disconnected from|Connection reset by) (?:authenticating|invalid) user (?<user>.*) (?<addr>\S+) port \d+(?::\d+: .*)? \[preauth\]$`,
    ),
    description: 'a client that named a user left before authenticating',
  },
  {
    name: 'sshd_preauth_disconnect',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    contains: '[preauth]',
    prefix: ['Connection closed by ', 'Disconnected from ', 'Received disconnect from ', 'error: Received disconnect from '],
    regex: new RegExp(
      String.raw`^(?:error: )?(?:Connection closed by|Disconnected from|Received disconnect from) (?<addr>\S+?)${port}(?::\s*\d+: .*)? \[preauth\]$`,
    ),
    description: 'a connection closed before any user was named (scanners, banner grabs)',
  },
  {
    name: 'sshd_preauth_reset',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    contains: 'reset',
    prefix: ['Connection reset by ', 'Read error from remote host ', 'fatal: Read from socket failed: ', 'Read from socket failed: '],
    regex: new RegExp(
      String.raw`^(?:Connection reset by (?<addr>\S+?)${port}|Read error from remote host (?<addr2>\S+)${port}: Connection reset by peer|(?:fatal: )?Read from socket failed: Connection reset by peer) \[preauth\]$`,
    ),
    description: 'a connection reset before authentication',
  },
  {
    name: 'sshd_no_identification',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    prefix: 'Did not receive identification string',
    regex: new RegExp(String.raw`^Did not receive identification string from (?<addr>\S+)${port}$`),
    description: 'a client connected and sent no SSH banner (port scanners)',
  },
  {
    name: 'sshd_bad_identification',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    prefix: [
      'error: kex_exchange_identification: ',
      'kex_exchange_identification: ',
      'banner exchange: ',
      'Bad protocol version identification ',
    ],
    regex: new RegExp(
      String.raw`^(?:(?:error: )?kex_exchange_identification: .+|banner exchange: Connection from (?<addr>\S+)${port}: .+|Bad protocol version identification .* from (?<addr2>\S+)${port})$`,
    ),
    description: 'a client sent something that is not an SSH banner, or left during the banner exchange',
  },
  {
    name: 'sshd_negotiation_failed',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    prefix: [
      'Unable to negotiate with ',
      'ssh_dispatch_run_fatal: ',
      'fatal: ssh_dispatch_run_fatal: ',
      'kex_protocol_error: ',
      'fatal: Unable to negotiate ',
    ],
    regex: new RegExp(
      String.raw`^(?:(?:fatal: )?Unable to negotiate with (?<addr>\S+)${port}: no matching .+|(?:fatal: )?ssh_dispatch_run_fatal: Connection from (?<addr2>\S+)${port}: .+|kex_protocol_error: .+)$`,
    ),
    description: 'key exchange or negotiation failed (no common algorithm, corrupt packets)',
  },
  {
    name: 'sshd_auth_timeout',
    service: 'sshd',
    outcome: 'notice',
    role: 'echo',
    prefix: ['fatal: Timeout before authentication for ', 'Timeout before authentication for '],
    regex: /^(?:fatal: )?Timeout before authentication for (?:connection from )?(?<addr>[^\s,]+)/,
    description: 'LoginGraceTime passed before the client authenticated',
  },
  {
    name: 'sshd_accepted',
    service: 'sshd',
    outcome: 'success',
    role: 'ends',
    method: 'method',
    prefix: 'Accepted ',
    regex: new RegExp(String.raw`^Accepted (?<method>\S+) for (?<user>.*) from (?<addr>\S+)${port}(?: ssh[12])?(?:: .*)?$`),
    description: 'a successful login, by method',
  },
  {
    name: 'sshd_key_wrong_source',
    service: 'sshd',
    outcome: 'failure',
    role: 'opens',
    reason: 'publickey',
    // No prefix: OpenSSH 8.2+ puts the authorized_keys file (any path) and line first, `cert:` for a
    // certificate's source-address option. Last in the list, so that only lines no other pattern
    // took are searched for the needle.
    contains: ' but not from a permitted ',
    regex: new RegExp(
      String.raw`^(?:\S+:\d+: |cert: )?(?:RSA a|A)uthentication tried for (?:(?<user>.+?) with correct key but not from a permitted host \(host=[^,]*, ip=(?<addr>[^,)]+)(?:, required=[^)]*)?\)|(?<user2>.+?) with valid certificate but not from a permitted source address \((?<addr2>[^)]+)\))\.?${preauth}$`,
    ),
    description:
      'a correct key or certificate offered from a host its from= or source-address option does not allow (a stolen key, or a misplaced one): the attempt, which sshd logs as Failed only after a few failures',
  },
];

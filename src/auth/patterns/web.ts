import type { AuthPattern } from '../patterns.js';

/**
 * Web servers' HTTP authentication failures, from their error logs (or syslog). nginx's
 * auth_basic; Apache 2.2 and 2.4's mod_auth_basic and mod_auth_digest. A request without
 * credentials (the browser's first, answered with 401) is a notice, not an attempt.
 */
const nginxPrefix = String.raw`^(?:.*?\d+#\d+: )?(?:\*\d+ )?`;
const apacheClient = String.raw`\[client (?<addr>[^\]]+)\] (?:AH\d+: )?`;

export const webPatterns: readonly AuthPattern[] = [
  // ---- nginx ------------------------------------------------------------------------------
  {
    name: 'nginx_password_mismatch',
    service: 'nginx',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: 'password mismatch, client: ',
    regex: new RegExp(String.raw`${nginxPrefix}user "(?<user>(?:[^"\\]|\\.)*)":? password mismatch, client: (?<addr>[^,\s]+)`),
    description: 'auth_basic: a known user with a wrong password',
  },
  {
    name: 'nginx_user_not_found',
    service: 'nginx',
    outcome: 'failure',
    role: 'attempt',
    reason: 'invalid_user',
    contains: '" was not found in "',
    regex: new RegExp(String.raw`${nginxPrefix}user "(?<user>(?:[^"\\]|\\.)*)" was not found in "[^"]*", client: (?<addr>[^,\s]+)`),
    description: 'auth_basic: a user not in the password file',
  },
  {
    name: 'nginx_no_credentials',
    service: 'nginx',
    outcome: 'notice',
    role: 'echo',
    contains: 'no user/password was provided',
    regex: new RegExp(String.raw`${nginxPrefix}no user/password was provided for basic authentication, client: (?<addr>[^,\s]+)`),
    description: 'a request without credentials (answered with 401)',
  },
  // ---- apache -----------------------------------------------------------------------------
  {
    name: 'apache_password_mismatch',
    service: 'apache',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: '[client ',
    regex: new RegExp(
      String.raw`${apacheClient}(?:Digest: )?user (?<user>.+?)(?:: authentication failure for "[^"]*": Password Mismatch|: password mismatch)`,
    ),
    description: 'Basic or Digest authentication: a known user with a wrong password',
  },
  {
    name: 'apache_user_not_found',
    service: 'apache',
    outcome: 'failure',
    role: 'attempt',
    reason: 'invalid_user',
    contains: '[client ',
    regex: new RegExp(String.raw`${apacheClient}(?:Digest: )?user (?:\x60(?<user2>[^']*)' in realm \x60[^']*'|(?<user>.+?)) not found`),
    description: 'Basic or Digest authentication: a user not in the password file',
  },
  {
    name: 'apache_wrong_scheme',
    service: 'apache',
    outcome: 'notice',
    role: 'echo',
    contains: 'client used wrong authentication scheme',
    regex: new RegExp(String.raw`${apacheClient}client used wrong authentication scheme`),
    description: 'a client offered another scheme than the one configured',
  },
];

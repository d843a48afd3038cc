import type { AuthPattern } from '../patterns.js';

/**
 * Remote access. OpenVPN 2.4 to 2.6 (syslog, the journal, or its own --log file), whose lines
 * start with the client as `[user/]addr:port`; xrdp's sesman (0.9, 0.10) in its own log or syslog.
 */
const openvpnClient = String.raw`^(?:(?<user2>[^/\s]+)/)?(?:\[AF_INET6?\])?(?<addr>\S+?):\d+ `;

export const remoteAccessPatterns: readonly AuthPattern[] = [
  // ---- openvpn ----------------------------------------------------------------------------
  {
    name: 'openvpn_auth_failed',
    service: 'openvpn',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: 'TLS Auth Error: Auth Username/Password verification failed',
    regex: new RegExp(String.raw`${openvpnClient}TLS Auth Error: Auth Username/Password verification failed for peer`),
    description: 'the user name and password were refused (--auth-user-pass-verify, a plugin, or PAM)',
  },
  {
    name: 'openvpn_certificate_refused',
    service: 'openvpn',
    outcome: 'failure',
    role: 'attempt',
    reason: 'certificate',
    contains: 'VERIFY ERROR: ',
    regex: new RegExp(String.raw`${openvpnClient}VERIFY ERROR: depth=\d+, error=`),
    description: "the client's certificate was refused (unknown CA, expired, revoked)",
  },
  {
    name: 'openvpn_auth_pam_failed',
    service: 'openvpn',
    outcome: 'failure',
    role: 'echo',
    prefix: 'AUTH-PAM: ',
    regex: /^AUTH-PAM: BACKGROUND: user '(?<user>[^']*)' failed to authenticate/,
    description: "the PAM plugin's detail of a refusal; the TLS Auth Error line counts the attempt",
  },
  {
    name: 'openvpn_tls_failed',
    service: 'openvpn',
    outcome: 'notice',
    role: 'echo',
    contains: 'TLS Error: TLS handshake failed',
    regex: new RegExp(String.raw`${openvpnClient}TLS Error: TLS handshake failed`),
    description: 'a TLS handshake that did not finish (scanners, wrong tls-auth key)',
  },
  {
    name: 'openvpn_auth_succeeded',
    service: 'openvpn',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: 'Username/Password authentication succeeded',
    regex: new RegExp(String.raw`${openvpnClient}TLS: Username/Password authentication succeeded for username '(?<user>[^']*)'`),
    description: 'a login with user name and password',
  },
  // ---- xrdp -------------------------------------------------------------------------------
  {
    name: 'xrdp_authfail',
    service: 'xrdp',
    outcome: 'failure',
    role: 'attempt',
    reason: 'password',
    contains: 'AUTHFAIL: user=',
    regex: /(?:^|\] )AUTHFAIL: user=(?<user>\S*) ip=(?<addr>\S+)/,
    description: 'xrdp-sesman refused a login',
  },
  {
    name: 'xrdp_pam_failed',
    service: 'xrdp',
    outcome: 'failure',
    role: 'echo',
    contains: 'pam_authenticate failed: ',
    regex: /(?:^|\] )pam_authenticate failed: /,
    description: "sesman's PAM detail of the same refusal",
  },
  {
    name: 'xrdp_session_created',
    service: 'xrdp',
    outcome: 'success',
    role: 'ends',
    method: 'password',
    contains: 'created session (access granted)',
    regex: /\+\+ created session \(access granted\): username (?<user>\S+), ip (?<addr>\S+)/,
    description: 'a login that started a session',
  },
];

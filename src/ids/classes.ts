/**
 * The bounded label values of IDS alerts: one severity scale and one set of categories shared by
 * every tool, so that a rule or a panel reads Suricata, Snort and Wazuh alike. Signature text,
 * addresses and ports never become labels.
 */
export const alertSeverities = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];

export const alertCategories = [
  'exploit',
  'malware',
  'credential',
  'recon',
  'dos',
  'integrity',
  'vulnerability',
  'policy',
  'protocol',
  'activity',
  'other',
  'unknown',
] as const;
export type AlertCategory = (typeof alertCategories)[number];

export const alertCategoryMeanings: Readonly<Record<AlertCategory, string>> = {
  exploit:
    'attacks on services and privilege gain (attempted-admin/user, web-application-attack, shellcode, exploit kits; Wazuh attack, exploit, web attack groups)',
  malware: 'trojans, command and control, coin mining, unwanted programs; Wazuh rootcheck, virus and malware groups',
  credential:
    'login attacks and credential theft (default-login-attempt, suspicious-login, credential-theft; Wazuh authentication_failed, brute force, invalid_login)',
  recon: 'scans and information leaks (attempted-recon, network-scan)',
  dos: 'denial of service',
  integrity: 'file integrity monitoring (Wazuh syscheck)',
  vulnerability: 'vulnerable packages (Wazuh vulnerability-detector)',
  policy:
    'policy violations and configuration assessment (policy-violation, inappropriate-content, external-ip-check; Wazuh sca, policy_violation)',
  protocol: 'protocol anomalies and decoder events (protocol-command-decode, non-standard-protocol, icmp-event, tcp-connection)',
  activity: 'benign or informational activity (not-suspicious, misc-activity; Wazuh authentication_success, logins, service starts)',
  other: 'a category the table does not know',
  unknown: 'the event carries no category (Snort 3 without `class` in alert_json.fields)',
};

/**
 * Suricata's and Snort's classtypes (classification.config), by short name and by description:
 * Snort 3's alert_json prints the short name, Suricata's EVE the description.
 */
const classtypes: ReadonlyArray<readonly [string, string, AlertCategory]> = [
  ['not-suspicious', 'Not Suspicious Traffic', 'activity'],
  ['unknown', 'Unknown Traffic', 'other'],
  ['bad-unknown', 'Potentially Bad Traffic', 'other'],
  ['attempted-recon', 'Attempted Information Leak', 'recon'],
  ['successful-recon-limited', 'Information Leak', 'recon'],
  ['successful-recon-largescale', 'Large Scale Information Source Leak', 'recon'],
  ['attempted-dos', 'Attempted Denial of Service', 'dos'],
  ['successful-dos', 'Denial of Service', 'dos'],
  ['attempted-user', 'Attempted User Privilege Gain', 'exploit'],
  ['unsuccessful-user', 'Unsuccessful User Privilege Gain', 'exploit'],
  ['successful-user', 'Successful User Privilege Gain', 'exploit'],
  ['attempted-admin', 'Attempted Administrator Privilege Gain', 'exploit'],
  ['successful-admin', 'Successful Administrator Privilege Gain', 'exploit'],
  ['rpc-portmap-decode', 'Decode of an RPC Query', 'protocol'],
  ['shellcode-detect', 'Executable code was detected', 'exploit'],
  ['string-detect', 'A suspicious string was detected', 'other'],
  ['suspicious-filename-detect', 'A suspicious filename was detected', 'other'],
  ['suspicious-login', 'An attempted login using a suspicious username was detected', 'credential'],
  ['system-call-detect', 'A system call was detected', 'exploit'],
  ['tcp-connection', 'A TCP connection was detected', 'protocol'],
  ['trojan-activity', 'A Network Trojan was detected', 'malware'],
  ['unusual-client-port-connection', 'A client was using an unusual port', 'protocol'],
  ['network-scan', 'Detection of a Network Scan', 'recon'],
  ['denial-of-service', 'Detection of a Denial of Service Attack', 'dos'],
  ['non-standard-protocol', 'Detection of a non-standard protocol or event', 'protocol'],
  ['protocol-command-decode', 'Generic Protocol Command Decode', 'protocol'],
  ['web-application-activity', 'access to a potentially vulnerable web application', 'exploit'],
  ['web-application-attack', 'Web Application Attack', 'exploit'],
  ['misc-activity', 'Misc activity', 'activity'],
  ['misc-attack', 'Misc Attack', 'exploit'],
  ['icmp-event', 'Generic ICMP event', 'protocol'],
  ['inappropriate-content', 'Inappropriate Content was Detected', 'policy'],
  ['policy-violation', 'Potential Corporate Privacy Violation', 'policy'],
  ['default-login-attempt', 'Attempt to login by a default username and password', 'credential'],
  ['sdf', 'Sensitive Data was Transmitted Across the Network', 'policy'],
  ['file-format', 'Known malicious file or file based exploit', 'malware'],
  ['malware-cnc', 'Known malware command and control traffic', 'malware'],
  ['client-side-exploit', 'Known client side exploit attempt', 'exploit'],
  ['targeted-activity', 'Targeted Malicious Activity was Detected', 'exploit'],
  ['exploit-kit', 'Exploit Kit Activity Detected', 'exploit'],
  ['external-ip-check', 'Device Retrieving External IP Address Detected', 'policy'],
  ['domain-c2', 'Domain Observed Used for C2 Detected', 'malware'],
  ['pup-activity', 'Possibly Unwanted Program Detected', 'malware'],
  ['credential-theft', 'Successful Credential Theft Detected', 'credential'],
  ['social-engineering', 'Possible Social Engineering Attempted', 'exploit'],
  ['coin-mining', 'Crypto Currency Mining Activity Detected', 'malware'],
  ['command-and-control', 'Malware Command and Control Activity Detected', 'malware'],
];

const classtypeCategory = new Map<string, AlertCategory>();
for (const [name, description, category] of classtypes) {
  classtypeCategory.set(name, category);
  classtypeCategory.set(description.toLowerCase(), category);
}

/** The category of a Suricata/Snort classtype, given by short name or description; absent or "none" is unknown. */
export function classtypeToCategory(classtype: string | undefined): AlertCategory {
  if (classtype === undefined || classtype === '' || classtype === 'none') return 'unknown';
  return classtypeCategory.get(classtype.toLowerCase()) ?? 'other';
}

/**
 * Wazuh/OSSEC rule groups, most telling first: a rule in groups [syslog, sshd, invalid_login,
 * authentication_failed] is a credential attack, whatever its decoder family.
 */
const wazuhGroups: ReadonlyArray<readonly [RegExp, AlertCategory]> = [
  [/^(rootcheck|virus|malware|trojan|rootkit|virustotal|yara)$/, 'malware'],
  [/^(attack|exploit_attempt|web_attack|sql_injection|xss|shellshock|command_injection|attacks|privilege_escalation)$/, 'exploit'],
  [
    /^(authentication_failed|authentication_failures|invalid_login|brute_force|multiple_auth_failures|win_authentication_failed)$/,
    'credential',
  ],
  [/^(recon|scan|web_scan|connection_attempt)$/, 'recon'],
  [/^(dos|denial_of_service|flood)$/, 'dos'],
  [/^(syscheck|syscheck_file|syscheck_entry_added|syscheck_entry_modified|syscheck_entry_deleted|fim)$/, 'integrity'],
  [/^(vulnerability-detector|vulnerability_detector|vuls)$/, 'vulnerability'],
  [/^(sca|policy_violation|policy_monitoring|oscap|ciscat)$/, 'policy'],
  [/^(authentication_success|adduser|login|logoff|sudo|pam|ossec|service_availability|system_shutdown|syslog)$/, 'activity'],
];

export function wazuhGroupsToCategory(groups: readonly string[]): AlertCategory {
  if (groups.length === 0) return 'unknown';
  for (const [pattern, category] of wazuhGroups) if (groups.some((g) => pattern.test(g))) return category;
  return 'other';
}

/** Suricata severity and Snort priority: 1 is the most severe, 4 and above the least. */
export function prioritySeverity(priority: number | undefined): AlertSeverity {
  if (priority === undefined || !Number.isInteger(priority) || priority < 1) return 'unknown';
  if (priority === 1) return 'high';
  if (priority === 2) return 'medium';
  return 'low';
}

/**
 * Wazuh/OSSEC rule levels 0..15: 12 and above are what Wazuh's rule classification calls high
 * importance events, 15 a severe attack; 7-11 are errors, first-seen events and attack patterns.
 */
export function wazuhLevelSeverity(level: number | undefined): AlertSeverity {
  if (level === undefined || !Number.isInteger(level) || level < 0 || level > 15) return 'unknown';
  if (level === 15) return 'critical';
  if (level >= 12) return 'high';
  if (level >= 7) return 'medium';
  return 'low';
}

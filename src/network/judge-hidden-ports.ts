import type { Finding } from '../findings/finding.js';
import { finding } from '../findings/kinds.js';
import type { HiddenPort } from './hidden-ports.js';
import { networkKinds } from './kinds.js';

/** Judgment of the hidden-port sweep: each port it confirmed hidden is a finding. */
export function hiddenPortFindings(hidden: readonly HiddenPort[]): Finding[] {
  return hidden.map((h) =>
    finding(
      networkKinds.hidden_port,
      { protocol: h.protocol, port: h.port },
      `${h.protocol} port ${h.port} is in use but appears in no /proc/net table (checked twice): a hidden socket, or one bound without listening`,
    ),
  );
}

/** `check` and `baseline diff` follow diff(1): 0 nothing found, 1 something found, 2 trouble. */
export const exitCodes = { ok: 0, findings: 1, error: 2 } as const;

/** An error the operator can fix from its message alone: printed as one line, exit 2, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The listen address is taken or not ours to bind: exit 1, like node_exporter. */
export class ListenError extends Error {
  override name = 'ListenError';
}
